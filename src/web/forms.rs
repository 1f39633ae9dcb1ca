//! Form error messages, by field, as translation keys.

#[derive(Debug, Default, Clone)]
pub struct FormErrors {
    errors: Vec<(&'static str, &'static str)>,
}

impl FormErrors {
    pub fn add(&mut self, field: &'static str, key: &'static str) {
        self.errors.push((field, key));
    }

    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// The message key for `field`, for templates.
    pub fn get(&self, field: &str) -> Option<&'static str> {
        self.errors.iter().find(|(f, _)| *f == field).map(|(_, k)| *k)
    }

    pub fn has(&self, field: &str) -> bool {
        self.get(field).is_some()
    }

    pub fn all(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.errors.iter().map(|(_, k)| *k)
    }

    pub fn len(&self) -> usize {
        self.errors.len()
    }
}

/// A urlencoded form read as name–value pairs, for forms with repeated fields (checkbox
/// lists) that serde's flat forms cannot hold. The body was already bounded by the
/// CSRF middleware.
#[derive(Debug, Default, Clone)]
pub struct Pairs(Vec<(String, String)>);

impl Pairs {
    pub fn parse(body: &[u8]) -> Self {
        Self(url::form_urlencoded::parse(body).into_owned().collect())
    }

    /// The first value of `name`, or "".
    pub fn get(&self, name: &str) -> &str {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or("")
    }

    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str()).collect()
    }

    pub fn has(&self, name: &str) -> bool {
        self.0.iter().any(|(k, _)| k == name)
    }
}

impl actix_web::FromRequest for Pairs {
    type Error = crate::error::AppError;
    type Future = std::pin::Pin<Box<dyn std::future::Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &actix_web::HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let body = actix_web::web::Bytes::from_request(req, payload);
        Box::pin(async move {
            let body = body.await.map_err(|_| crate::error::AppError::BadRequest("unreadable form"))?;
            Ok(Pairs::parse(&body))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_fields_are_all_kept() {
        let p = Pairs::parse(b"groups=centro&groups=norte&name=Ana+G%C3%B3mez&empty=");
        assert_eq!(p.all("groups"), ["centro", "norte"]);
        assert_eq!(p.get("name"), "Ana Gómez");
        assert!(p.has("empty"));
        assert_eq!(p.get("missing"), "");
        assert!(p.all("missing").is_empty());
    }
}
