//! The commissioner's dashboard (`/commissioner`): figures per group, officer and week for
//! a period, with two charts.

use std::borrow::Borrow;

use actix_web::web::{self, Data, Query};
use actix_web::{HttpResponse, get};
use askama::Template;

use super::PeriodQuery;
use crate::app::AppState;
use crate::domain::Locale;
use crate::domain::application::Status;
use crate::domain::chart::{self, HorizontalBars, StackedColumns};
use crate::domain::stats::{self, PERIODS, Period, WaitRange};
use crate::error::AppResult;
use crate::services::oversight::dashboard::{self, Dashboard, WeekFigures};
use crate::web::extract::Commissioner;
use crate::web::page::{PageContext, ok};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(home);
}

/// "2,5" in Spanish, "2.5" in English: one decimal.
fn decimal(locale: Locale, v: f64) -> String {
    let s = format!("{v:.1}");
    match locale {
        Locale::Es => s.replace('.', ","),
        Locale::En => s,
    }
}

#[derive(Template)]
#[template(path = "commissioner/home.html")]
struct DashboardPage {
    ctx: PageContext,
    d: Dashboard,
    weeks_chart: StackedColumns,
    members_chart: HorizontalBars,
}

impl DashboardPage {
    fn periods(&self) -> [i64; 3] {
        PERIODS
    }

    fn open_statuses(&self) -> [Status; 4] {
        Status::OPEN
    }

    /// A range of days of waiting ("3–5", "90+"), or a dash.
    fn days_range(&self, r: &Option<WaitRange>) -> String {
        r.map(|r| r.to_string()).unwrap_or_else(|| "—".into())
    }

    /// The same for machines (`data-v`): where the range starts, or empty.
    fn days_range_raw(&self, r: &Option<WaitRange>) -> String {
        r.map(|r| r.from.to_string()).unwrap_or_default()
    }

    /// The same figure for machines (`data-v`): one decimal with a point, or empty.
    fn raw(&self, v: impl Borrow<Option<f64>>) -> String {
        v.borrow().map(|v| format!("{v:.1}")).unwrap_or_default()
    }

    fn pct(&self, v: impl Borrow<Option<f64>>) -> String {
        v.borrow().map(|v| format!("{} %", decimal(self.ctx.locale, v))).unwrap_or_else(|| "—".into())
    }

    fn opt_days(&self, v: &Option<i64>) -> String {
        v.map(|d| d.to_string()).unwrap_or_else(|| "—".into())
    }

    fn opt_days_raw(&self, v: &Option<i64>) -> String {
        v.map(|d| d.to_string()).unwrap_or_default()
    }

    fn week(&self, i: &usize) -> &WeekFigures {
        &self.d.weeks[*i]
    }

    /// "03/11": the local day a week starts.
    fn week_short(&self, i: &usize) -> String {
        self.d.weeks[*i].first.format("%d/%m").to_string()
    }

    fn week_long(&self, i: &usize) -> String {
        let w = &self.d.weeks[*i];
        let from = w.first.format("%d/%m/%Y").to_string();
        let to = w.last.format("%d/%m/%Y").to_string();
        crate::i18n::format(self.ctx.locale, "oversight.chart.week_of", &[("from", &from), ("to", &to)])
    }

    /// The outcome each stacked series shows, bottom up.
    fn series(&self, s: &usize) -> &'static str {
        ["approved", "rejected", "withdrawn"][*s]
    }

    fn series_fill(&self, s: &usize) -> &'static str {
        ["#1e7a46", "#b3261e", "#8a96a3"][*s]
    }

    fn group_label(&self, i: &usize) -> String {
        chart::short_label(&self.d.groups[*i].name, 26)
    }

    fn group_id(&self, i: &usize) -> &str {
        &self.d.groups[*i].id
    }

    fn generated(&self) -> String {
        self.ctx.when(self.d.now)
    }

    /// The outlier rule in words, with its numbers.
    fn rule(&self) -> String {
        crate::i18n::format(
            self.ctx.locale,
            "oversight.officers.rule",
            &[("min", &stats::OUTLIER_MIN_DECISIONS.to_string()), ("points", &format!("{:.0}", stats::OUTLIER_POINTS))],
        )
    }
}

#[get("/commissioner")]
async fn home(
    state: Data<AppState>,
    ctx: PageContext,
    _user: Commissioner,
    q: Query<PeriodQuery>,
) -> AppResult<HttpResponse> {
    let period = Period::parse(q.days.as_deref());
    let d = dashboard::load(&state, period).await?;
    let weeks_chart =
        chart::stacked_columns(&d.weeks.iter().map(|w| vec![w.approved, w.rejected, w.withdrawn]).collect::<Vec<_>>());
    let members_chart = chart::horizontal_bars(&d.groups.iter().map(|g| g.active_members).collect::<Vec<_>>());
    ok(&DashboardPage { ctx, d, weeks_chart, members_chart })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_follow_the_language() {
        assert_eq!(decimal(Locale::Es, 2.26), "2,3");
        assert_eq!(decimal(Locale::En, 2.5), "2.5");
        assert_eq!(decimal(Locale::Es, 10.0), "10,0");
    }
}
