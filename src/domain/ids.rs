//! Ids of the service's records. Each is its own type, so an officer's id cannot be passed
//! where an application's goes; all are UUID v4 text in the database.

use std::fmt;

/// What every id type offers, for code that works with any of them (keyset cursors).
pub trait Id: Sized + fmt::Display {
    fn parse(raw: &str) -> Option<Self>;
    fn from_stored(raw: String) -> Self;
}

macro_rules! id_type {
    ($($(#[$doc:meta])* $name:ident;)+) => {$(
        $(#[$doc])*
        #[derive(
            Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, diesel::AsExpression, diesel::FromSqlRow,
        )]
        #[diesel(sql_type = diesel::sql_types::Text)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// A new random id.
            pub fn generate() -> Self {
                Self(uuid::Uuid::new_v4().to_string())
            }

            /// An id from outside (a path, a form): a UUID or nothing, so a malformed one
            /// never reaches a query.
            pub fn parse(raw: &str) -> Option<Self> {
                uuid::Uuid::parse_str(raw).ok().map(|u| Self(u.to_string()))
            }

            /// An id read back from storage, trusted as it is.
            pub fn from_stored(raw: String) -> Self {
                Self(raw)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        /// Ids in paths and forms: anything but a UUID is refused (a path that names no
        /// record answers 404 before the handler runs).
        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let raw = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                Self::parse(&raw).ok_or_else(|| serde::de::Error::custom("not an id"))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl Id for $name {
            fn parse(raw: &str) -> Option<Self> {
                $name::parse(raw)
            }

            fn from_stored(raw: String) -> Self {
                $name::from_stored(raw)
            }
        }

        /// Reads as the text it is, so queries and audit entries take it where they take a
        /// `&str`; functions that need this kind of id say so in their signature.
        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                &self.0 == other
            }
        }

        impl PartialEq<$name> for String {
            fn eq(&self, other: &$name) -> bool {
                *self == other.0
            }
        }
    )+};
}

id_type! {
    /// An account: resident, officer or commissioner.
    UserId;
    ApplicationId;
    GroupId;
    MembershipId;
    DocumentId;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outside_ids_must_be_uuids() {
        let id = ApplicationId::generate();
        assert_eq!(ApplicationId::parse(id.as_str()), Some(id.clone()));
        assert_eq!(ApplicationId::parse(&id.as_str().to_uppercase()), Some(id));
        assert_eq!(ApplicationId::parse("../etc/passwd"), None);
        assert_eq!(ApplicationId::parse(""), None);
    }
}
