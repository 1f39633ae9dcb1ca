//! SQL pieces diesel's query language cannot write (constants a partial index must see, an
//! IN list of fixed width), as expressions that keep their statements in diesel's
//! prepared-statement cache, and `Statement`, a whole statement of fixed text (a keyset
//! cursor, a constant `LIMIT`). A `sql()` literal would opt the whole statement out of the
//! cache, so it would be parsed and planned again on every request.

use std::marker::PhantomData;

use chrono::NaiveDateTime;
use diesel::QueryResult;
use diesel::backend::Backend;
use diesel::expression::{AppearsOnTable, Expression, SelectableExpression, ValidGrouping, is_aggregate};
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::{BigInt, Bool, Date, HasSqlType, Text, Timestamp};

/// SQL text fixed by the program (never user input), of SQL type `ST`.
#[derive(Debug, Clone)]
pub struct Fixed<ST = Bool> {
    sql: String,
    _type: PhantomData<ST>,
}

impl<ST> Fixed<ST> {
    /// `sql` must come from the program itself: it is sent as it is.
    pub fn new(sql: String) -> Self {
        Self { sql, _type: PhantomData }
    }
}

/// `column IN (…)` with always `width` bound values, the given ids repeated to fill it: the
/// statement's text is then the same for every page and stays prepared, where diesel's
/// `eq_any` writes one placeholder per value and is prepared again on every request.
#[derive(Debug, Clone)]
pub struct IdIn {
    column: &'static str,
    ids: Vec<String>,
}

impl IdIn {
    /// `ids` must not be empty nor longer than `width`.
    pub fn new(column: &'static str, mut ids: Vec<String>, width: usize) -> Self {
        debug_assert!(!ids.is_empty() && ids.len() <= width);
        if let Some(last) = ids.last().cloned() {
            ids.resize(width, last);
        }
        Self { column, ids }
    }
}

impl Expression for IdIn {
    type SqlType = Bool;
}

impl<ST: diesel::sql_types::SqlType + diesel::sql_types::SingleValue> Expression for Fixed<ST> {
    type SqlType = ST;
}

macro_rules! plain_expression {
    ($($t:ty),*) => {$(
        impl<QS> AppearsOnTable<QS> for $t {}
        impl<QS> SelectableExpression<QS> for $t {}
        impl ValidGrouping<()> for $t {
            type IsAggregate = is_aggregate::Never;
        }
        // The text differs between values of the same type: the statement cache must key
        // on the SQL, never on the type.
        impl QueryId for $t {
            type QueryId = ();
            const HAS_STATIC_QUERY_ID: bool = false;
        }
    )*};
}

plain_expression!(IdIn);

impl<QS, ST: diesel::sql_types::SqlType + diesel::sql_types::SingleValue> AppearsOnTable<QS> for Fixed<ST> {}
impl<QS, ST: diesel::sql_types::SqlType + diesel::sql_types::SingleValue> SelectableExpression<QS> for Fixed<ST> {}
impl<ST> ValidGrouping<()> for Fixed<ST> {
    type IsAggregate = is_aggregate::Never;
}
impl<ST> QueryId for Fixed<ST> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<DB: Backend, ST> QueryFragment<DB> for Fixed<ST> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql(&self.sql);
        Ok(())
    }
}

impl<DB> QueryFragment<DB> for IdIn
where
    DB: Backend + HasSqlType<Text>,
    String: ToSql<Text, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql(self.column);
        out.push_sql(" IN (");
        for (k, id) in self.ids.iter().enumerate() {
            if k > 0 {
                out.push_sql(", ");
            }
            out.push_bind_param::<Text, _>(id)?;
        }
        out.push_sql(")");
        Ok(())
    }
}

/// A whole statement whose text the program fixes, with its bound values in order, that
/// diesel keeps prepared like its own queries: a `sql_query` opts out of the statement
/// cache, so it is parsed and planned again on every call (on SQLite a join of many
/// tables spends most of its time in the planner). Rows load as `QueryableByName`.
#[derive(Debug, Clone, Default)]
pub struct Statement {
    parts: Vec<Part>,
}

#[derive(Debug, Clone)]
enum Part {
    Sql(String),
    Text(String),
    BigInt(i64),
    Date(chrono::NaiveDate),
    Timestamp(NaiveDateTime),
}

impl Statement {
    /// `sql` must come from the program itself: it is sent as it is.
    pub fn sql(mut self, sql: impl Into<String>) -> Self {
        self.parts.push(Part::Sql(sql.into()));
        self
    }

    pub fn text(mut self, value: impl Into<String>) -> Self {
        self.parts.push(Part::Text(value.into()));
        self
    }

    pub fn big_int(mut self, value: i64) -> Self {
        self.parts.push(Part::BigInt(value));
        self
    }

    pub fn date(mut self, value: chrono::NaiveDate) -> Self {
        self.parts.push(Part::Date(value));
        self
    }

    pub fn timestamp(mut self, value: NaiveDateTime) -> Self {
        self.parts.push(Part::Timestamp(value));
        self
    }

    /// ` AND ` after `(at, id)` in `(submitted_at, id)` order on `table`. SQLite gets a row value,
    /// `(submitted_at, id) > (at, id)`, which it seeks to in the index that has those columns
    /// after the group (a plain `submitted_at >= at` would let it take the group-and-status
    /// index instead and sort). PostgreSQL gets `submitted_at >= at AND (submitted_at > at OR
    /// id > id)`: a range it estimates from its histogram (it guesses a row value at a few rows
    /// and sorts the group's whole remaining queue); the second term only skips the ties.
    pub fn after(self, conn: &crate::db::DbConn, table: &str, at: NaiveDateTime, id: &str) -> Self {
        if conn.is_sqlite() {
            return self
                .sql(format!(" AND ({table}.submitted_at, {table}.id) > ("))
                .timestamp(at)
                .sql(", ")
                .text(id)
                .sql(")");
        }
        self.sql(format!(" AND ({table}.submitted_at >= "))
            .timestamp(at)
            .sql(format!(" AND ({table}.submitted_at > "))
            .timestamp(at)
            .sql(format!(" OR {table}.id > "))
            .text(id)
            .sql("))")
    }
}

impl<DB> QueryFragment<DB> for Statement
where
    DB: Backend + HasSqlType<Text> + HasSqlType<BigInt> + HasSqlType<Date> + HasSqlType<Timestamp>,
    String: ToSql<Text, DB>,
    i64: ToSql<BigInt, DB>,
    chrono::NaiveDate: ToSql<Date, DB>,
    NaiveDateTime: ToSql<Timestamp, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        for part in &self.parts {
            match part {
                Part::Sql(sql) => out.push_sql(sql),
                Part::Text(v) => out.push_bind_param::<Text, _>(v)?,
                Part::BigInt(v) => out.push_bind_param::<BigInt, _>(v)?,
                Part::Date(v) => out.push_bind_param::<Date, _>(v)?,
                Part::Timestamp(v) => out.push_bind_param::<Timestamp, _>(v)?,
            }
        }
        Ok(())
    }
}

impl QueryId for Statement {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl diesel::query_builder::Query for Statement {
    type SqlType = diesel::sql_types::Untyped;
}

impl<C: diesel::Connection> diesel::RunQueryDsl<C> for Statement {}
