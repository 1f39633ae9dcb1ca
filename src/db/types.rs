//! How the domain's value types map to columns: statuses, roles, languages and ids are
//! TEXT on both backends, written with `as_str` and read back through `FromStr`, so a row
//! with an unknown value fails to load instead of spreading as a string.

use std::str::FromStr;

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql};
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::Text;

use crate::domain::application::Status;
use crate::domain::ids::Id;
use crate::domain::membership::MembershipStatus;
use crate::domain::notice::NoticeKind;
use crate::domain::{ApplicationId, DocumentId, GroupId, Locale, MembershipId, Role, UserId};

/// `ToSql`/`FromSql` for types declared with
/// `#[derive(diesel::AsExpression, diesel::FromSqlRow)] #[diesel(sql_type = Text)]` that
/// have `as_str`: written as that text, read back through `$read`.
macro_rules! text_column {
    ($read:ident: $($ty:ty),+ $(,)?) => {$(
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
                $read::<$ty>(String::from_sql(bytes)?)
            }
        }
    )+};
}

/// Values with a fixed set of spellings: an unknown one fails the row's load.
fn parsed<T: FromStr>(raw: String) -> deserialize::Result<T> {
    raw.parse().map_err(|_| format!("unknown {} '{raw}'", std::any::type_name::<T>()).into())
}

/// Ids, written by the service itself, are read as they are.
fn stored<T: Id>(raw: String) -> deserialize::Result<T> {
    Ok(T::from_stored(raw))
}

text_column!(parsed: Status, MembershipStatus, NoticeKind, Role, Locale);
text_column!(stored: UserId, ApplicationId, GroupId, MembershipId, DocumentId);
