//! Role extractors. A handler states who may call it in its signature; the extractor
//! fails closed: no session sends the browser to sign in, another role gets 403.

use std::future::{Ready, ready};
use std::ops::Deref;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest};

use crate::auth::session::SessionUser;
use crate::domain::Role;
use crate::error::AppError;
use crate::web::context::RequestContext;

/// The signed-in account, whatever its role.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub user: SessionUser,
    pub ip: Option<String>,
}

impl Deref for CurrentUser {
    type Target = SessionUser;
    fn deref(&self) -> &SessionUser {
        &self.user
    }
}

fn current(req: &HttpRequest, allowed: &[Role]) -> Result<CurrentUser, AppError> {
    let ext = req.extensions();
    let ctx = ext.get::<RequestContext>().ok_or(AppError::Unauthenticated { next: None })?;
    let Some(user) = ctx.user.clone() else {
        let next = req.uri().path_and_query().map(|p| p.as_str().to_string());
        return Err(AppError::Unauthenticated { next });
    };
    if !allowed.is_empty() && !allowed.contains(&user.role) {
        return Err(AppError::Forbidden);
    }
    Ok(CurrentUser { user, ip: ctx.client_ip.clone() })
}

macro_rules! role_extractor {
    ($(#[$doc:meta])* $name:ident, [$($role:expr),*]) => {
        $(#[$doc])*
        #[derive(Debug, Clone)]
        pub struct $name(pub CurrentUser);

        impl Deref for $name {
            type Target = CurrentUser;
            fn deref(&self) -> &CurrentUser {
                &self.0
            }
        }

        impl FromRequest for $name {
            type Error = AppError;
            type Future = Ready<Result<Self, AppError>>;

            fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
                ready(current(req, &[$($role),*]).map($name))
            }
        }
    };
}

role_extractor!(
    /// Any signed-in account.
    SignedIn, []
);
role_extractor!(
    /// A resident account.
    Resident, [Role::Resident]
);
role_extractor!(
    /// An officer account.
    Officer, [Role::Officer]
);
role_extractor!(
    /// A commissioner account.
    Commissioner, [Role::Commissioner]
);
role_extractor!(
    /// An officer or a commissioner.
    StaffUser, [Role::Officer, Role::Commissioner]
);
