//! The dashboard: scores, bands, news since the last sweep, sweep health, and the 30-day
//! charts as server-side SVG.

use askama::Template;
use axum::extract::State;
use axum::response::Response;

use super::{Layout, html};
use crate::web::Shared;
use crate::web::auth::Caller;
use crate::web::error::PageResult;
use crate::web::views::{self};
use crate::when::rfc3339;

/// One bar or point of a chart, precomputed so the template only places numbers.
pub struct Bar {
    pub x: u32,
    pub y: u32,
    pub h: u32,
    pub label: String,
}

pub struct Line {
    pub name: String,
    pub points: String,
    pub class: String,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
pub struct DashboardPage {
    pub layout: Layout,
    pub d: views::Dashboard,
    pub last_sweep: String,
    pub accounts: Vec<(String, String, u64)>,
    pub new_bars: Vec<Bar>,
    pub fixed_bars: Vec<Bar>,
    pub lines: Vec<Line>,
    pub max_score: u64,
    pub max_day: u64,
    pub first_day: String,
    pub last_day: String,
    pub stale: Vec<(String, String, String, String)>,
    pub band10: u64,
    pub band5: u64,
    pub band1: u64,
}

const CHART_W: u32 = 600;
const CHART_H: u32 = 120;

pub async fn dashboard(State(s): State<Shared>, caller: Caller) -> PageResult<Response> {
    let d = views::dashboard(&s).await?;
    let names: std::collections::BTreeMap<String, String> = s
        .runtime
        .config()
        .accounts
        .iter()
        .map(|a| (a.id.clone(), a.name.clone()))
        .collect();
    let (new_bars, fixed_bars, max_day) = day_bars(&d.days);
    let (lines, max_score) = score_lines(&d.days, &names);
    let accounts = d
        .by_account
        .iter()
        .map(|(id, score)| {
            (
                id.clone(),
                names.get(id).cloned().unwrap_or_default(),
                *score,
            )
        })
        .collect();
    let stale = d
        .scopes
        .iter()
        .filter(|v| v.stale)
        .map(|v| {
            (
                v.health.account_id.clone(),
                v.health.resource_type.clone(),
                v.health.last_complete_ms.map_or("never".into(), rfc3339),
                v.health.last_error.clone().unwrap_or_default(),
            )
        })
        .collect();
    let page = DashboardPage {
        layout: Layout::new(&caller, "dashboard", "Dashboard"),
        last_sweep: d.last_sweep.as_ref().map_or("no sweep yet".into(), |w| {
            format!(
                "sweep {} {} at {}",
                w.id.0,
                w.status.as_str(),
                rfc3339(w.started_ms)
            )
        }),
        first_day: d
            .days
            .first()
            .map(|p| rfc3339(p.day_ms)[..10].to_string())
            .unwrap_or_default(),
        last_day: d
            .days
            .last()
            .map(|p| rfc3339(p.day_ms)[..10].to_string())
            .unwrap_or_default(),
        accounts,
        new_bars,
        fixed_bars,
        lines,
        max_score,
        max_day,
        stale,
        band10: d.bands[0],
        band5: d.bands[1],
        band1: d.bands[2],
        d,
    };
    Ok(html(&page))
}

/// New and fixed issues per day as bars side by side, scaled to the busiest day.
fn day_bars(days: &[crate::store::DayPoint]) -> (Vec<Bar>, Vec<Bar>, u64) {
    let step = CHART_W / days.len().max(1) as u32;
    let max_day = days
        .iter()
        .map(|p| p.new.max(p.fixed))
        .max()
        .unwrap_or(0)
        .max(1);
    let bar = |i: usize, n: u64, offset: u32, label: String| {
        let h = (n * u64::from(CHART_H) / max_day) as u32;
        Bar {
            x: i as u32 * step + offset,
            y: CHART_H - h,
            h,
            label,
        }
    };
    let new_bars = days
        .iter()
        .enumerate()
        .map(|(i, p)| {
            bar(
                i,
                p.new,
                0,
                format!(
                    "{}: {} new",
                    rfc3339(p.day_ms).get(..10).unwrap_or(""),
                    p.new
                ),
            )
        })
        .collect();
    let fixed_bars = days
        .iter()
        .enumerate()
        .map(|(i, p)| {
            bar(
                i,
                p.fixed,
                step / 2,
                format!(
                    "{}: {} fixed",
                    rfc3339(p.day_ms).get(..10).unwrap_or(""),
                    p.fixed
                ),
            )
        })
        .collect();
    (new_bars, fixed_bars, max_day)
}

/// One polyline per account of its open unjustified score at each day's end.
fn score_lines(
    days: &[crate::store::DayPoint],
    names: &std::collections::BTreeMap<String, String>,
) -> (Vec<Line>, u64) {
    let step = CHART_W / days.len().max(1) as u32;
    let accounts_seen: std::collections::BTreeSet<&String> =
        days.iter().flat_map(|p| p.open_score.keys()).collect();
    let max_score = days
        .iter()
        .flat_map(|p| p.open_score.values().copied())
        .max()
        .unwrap_or(0)
        .max(1);
    let lines = accounts_seen
        .iter()
        .enumerate()
        .map(|(n, account)| Line {
            name: names
                .get(*account)
                .map_or_else(|| (*account).clone(), |name| format!("{name} ({account})")),
            class: format!("series{}", n % 6),
            points: days
                .iter()
                .enumerate()
                .map(|(i, p)| {
                    let v = p.open_score.get(*account).copied().unwrap_or(0);
                    format!(
                        "{},{}",
                        i as u32 * step + step / 2,
                        CHART_H - (v * u64::from(CHART_H) / max_score) as u32
                    )
                })
                .collect::<Vec<_>>()
                .join(" "),
        })
        .collect();
    (lines, max_score)
}
