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
