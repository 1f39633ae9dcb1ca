//! How the domain's value types map to columns: statuses, roles, languages and ids are
//! TEXT on both backends, written with `as_str` and read back through `FromStr`, so a row
//! with an unknown value fails to load instead of spreading as a string.

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql};
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::Text;

use crate::domain::application::Status;
use crate::domain::membership::MembershipStatus;
use crate::domain::{ApplicationId, DocumentId, GroupId, Locale, MembershipId, Role, UserId};

/// `ToSql`/`FromSql` for a type declared with
/// `#[derive(diesel::AsExpression, diesel::FromSqlRow)] #[diesel(sql_type = Text)]` that
/// has `as_str` and `FromStr`.
macro_rules! text_column {
    ($($ty:ty),+ $(,)?) => {$(
        impl<DB: Backend> ToSql<Text, DB> for $ty
        where
            str: ToSql<Text, DB>,
        {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
                self.as_str().to_sql(out)
            }
        }

        impl<DB: Backend> FromSql<Text, DB> for $ty
        where
            String: FromSql<Text, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
                let raw = String::from_sql(bytes)?;
                raw.parse::<$ty>().map_err(|_| format!("unknown {} '{raw}'", stringify!($ty)).into())
            }
        }
    )+};
}

text_column!(Status, MembershipStatus, Role, Locale);

/// Ids: TEXT holding a UUID, written and read as they are.
macro_rules! id_column {
    ($($ty:ty),+ $(,)?) => {$(
        impl<DB: Backend> ToSql<Text, DB> for $ty
        where
            str: ToSql<Text, DB>,
        {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
                self.as_str().to_sql(out)
            }
        }

        impl<DB: Backend> FromSql<Text, DB> for $ty
        where
            String: FromSql<Text, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
                Ok(<$ty>::from_stored(String::from_sql(bytes)?))
            }
        }
    )+};
}

id_column!(UserId, ApplicationId, GroupId, MembershipId, DocumentId);
