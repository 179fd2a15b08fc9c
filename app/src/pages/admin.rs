//! `/admin`: how the service is doing. Live (pushed): waiting now, longest
//! wait, representatives by state, today's service level. History for a
//! range: the figures of SPEC §9 with their definitions, charts by hour and
//! by day, tables by queue, representative, hour and day, each with its CSV.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use leptos_router::params::ParamsMap;
use uuid::Uuid;

use super::chart::VolumeChart;
use super::guard::guarded;
use super::{failure, Scrolling};
use crate::access::Area;
use crate::error::AppError;
use crate::live::now_ms;
use crate::metrics::{
    live_now, metrics_report, percent, stars, Accuracy, Figures, LiveBoard, Report, ReportQuery, TableKind, ACCURACY_DEFINITION,
};

#[component]
pub fn AdminPage() -> impl IntoView {
    view! {
        <Title text="Admin"/>
        {guarded(Area::Admin, |_| view! { <Dashboard/> })}
    }
}

#[component]
fn Dashboard() -> impl IntoView {
    view! {
        <section class="card">
            <div class="desk-head">
                <h1>"Service dashboard"</h1>
                <p class="row">
                    <a class="button" href="/admin/people">"Manage people"</a>
                    <a class="button" href="/admin/queues">"Manage queues"</a>
                    <a class="button" href="/admin/api-clients">"API clients"</a>
                    <a class="button" href="/admin/webhooks">"Webhooks"</a>
                </p>
            </div>
            <LiveNow/>
        </section>
        <History/>
    }
}

/// A duration for people: "45 s", "6 min 5 s", "1 h 2 min".
pub(super) fn human(seconds: Option<f64>) -> String {
    let Some(seconds) = seconds else { return "n/a".into() };
    let whole = seconds.round() as i64;
    match whole {
        ..60 => format!("{whole} s"),
        60..3600 => format!("{} min {} s", whole / 60, whole % 60),
        _ => format!("{} h {} min", whole / 3600, whole % 3600 / 60),
    }
}

pub(super) fn shown_percent(value: Option<f64>) -> String {
    match value {
        Some(_) => format!("{}%", percent(value)),
        None => "n/a".into(),
    }
}

#[component]
fn LiveNow() -> impl IntoView {
    let initial = Resource::new(|| (), |_| live_now());
    let board = RwSignal::new(None::<LiveBoard>);
    let received = RwSignal::new(0.0);
    let (pushed, set_pushed) = signal(None::<LiveBoard>);
    crate::live::follow("/ws/admin", set_pushed);
    Effect::new(move |_| {
        if let Some(live) = pushed.get() {
            board.set(Some(live));
            received.set(now_ms());
        }
    });
    // Longest waits grow between pushes: a one-second clock.
    let (tick, set_tick) = signal(0u32);
    super::every(std::time::Duration::from_secs(1), move || set_tick.update(|t| *t += 1));
    view! {
        <h2>"Now"</h2>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match initial.await {
                    Ok(first) => {
                        if board.get_untracked().is_none() {
                            board.set(Some(first));
                            received.set(now_ms());
                        }
                        view! { <LiveView board received tick/> }.into_any()
                    }
                    Err(error) => failure(error),
                }
            })}
        </Suspense>
    }
}

#[component]
fn LiveView(board: RwSignal<Option<LiveBoard>>, received: RwSignal<f64>, tick: ReadSignal<u32>) -> impl IntoView {
    let agents = move || board.get().map(|board| board.agents).unwrap_or_default();
    let not_ready = move || agents().not_ready.iter().map(|(_, count)| count).sum::<i64>();
    let reasons =
        move || agents().not_ready.iter().map(|(reason, count)| format!("{reason}: {count}")).collect::<Vec<_>>().join(", ");
    let rows = move || {
        let elapsed = {
            tick.get();
            (now_ms() - received.get()) / 1000.0
        };
        board
            .get()
            .map(|board| board.queues)
            .unwrap_or_default()
            .into_iter()
            .map(|queue| {
                let longest = queue.longest_wait_seconds.map(|seconds| seconds + elapsed.max(0.0));
                view! {
                    <tr data-testid="live-queue">
                        <td>{queue.name.clone()}</td>
                        <td data-testid="waiting-now">{queue.waiting}</td>
                        <td>{if queue.waiting > 0 { human(longest) } else { "–".into() }}</td>
                        <td>{queue.today.offered}</td>
                        <td>{queue.today.answered}</td>
                        <td>{shown_percent(queue.today.service_level())}</td>
                    </tr>
                }
            })
            .collect_view()
    };
    view! {
        <div class="tiles">
            <div class="tile"><span class="figure" data-testid="agents-ready">{move || agents().ready}</span>"ready"</div>
            <div class="tile"><span class="figure" data-testid="agents-busy">{move || agents().busy}</span>"busy with customers"</div>
            <div class="tile"><span class="figure">{move || agents().wrap_up}</span>"wrapping up"</div>
            <div class="tile">
                <span class="figure" data-testid="agents-not-ready">{not_ready}</span>"not ready"
                <small class="reasons">{reasons}</small>
            </div>
        </div>
        <table data-testid="live-queues">
            <thead>
                <tr>
                    <th>"Queue"</th>
                    <th>"Waiting now"</th>
                    <th>"Longest wait now"</th>
                    <th>"Offered today"</th>
                    <th>"Answered today"</th>
                    <th>"Service level today"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
}

/// What the address asks for.
fn asked(query: &ParamsMap) -> Result<ReportQuery, AppError> {
    let get = |name: &str| query.get(name).filter(|value| !value.is_empty());
    let queue = match get("queue") {
        None => None,
        Some(raw) => Some(raw.parse::<Uuid>().map_err(|_| AppError::Invalid(format!("Queue \"{raw}\" is not a queue id.")))?),
    };
    Ok(ReportQuery { span: get("span").unwrap_or_else(|| "today".into()), from: get("from"), to: get("to"), queue })
}

#[component]
fn History() -> impl IntoView {
    let query = use_query_map();
    let report = Resource::new(
        move || query.get(),
        |query| async move {
            match asked(&query) {
                Ok(asked) => metrics_report(asked).await,
                Err(error) => Err(error),
            }
        },
    );
    view! {
        <section class="card">
            <h2>"History"</h2>
            <Suspense fallback=|| view! { <p class="muted">"Computing…"</p> }>
                {move || Suspend::new(async move {
                    match report.await {
                        Ok(report) => view! { <ReportView report/> }.into_any(),
                        Err(error) => view! {
                            {failure(error)}
                            <p><a href="/admin">"Show today"</a></p>
                        }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn RangeForm(report: Report) -> impl IntoView {
    let span = report.span.as_str();
    let option = move |value: &'static str, label: &'static str| {
        view! { <option value=value selected=span == value>{label}</option> }
    };
    let queues = report
        .queues
        .iter()
        .map(|queue| {
            let selected = report.queue == Some(queue.id);
            view! { <option value=queue.id.to_string() selected=selected>{queue.name.clone()}</option> }
        })
        .collect_view();
    view! {
        <form method="get" action="/admin" class="grid-form" data-testid="range">
            <label>"Range"
                <select name="span">
                    {option("today", "Today")}
                    {option("7d", "Last 7 days")}
                    {option("30d", "Last 30 days")}
                    {option("custom", "Chosen days")}
                </select>
            </label>
            <label>"From (chosen days)"<input type="date" name="from" value=report.from.clone()/></label>
            <label>"To (chosen days)"<input type="date" name="to" value=report.to.clone()/></label>
            <label>"Queue"
                <select name="queue">
                    <option value="" selected=report.queue.is_none()>"All queues"</option>
                    {queues}
                </select>
            </label>
            <button type="submit">"Show"</button>
        </form>
    }
}

/// One headline figure with its definition beside it.
fn tile(testid: &'static str, label: &'static str, value: String, definition: &'static str) -> impl IntoView {
    view! {
        <div class="tile">
            <span class="figure" data-testid=testid>{value}</span>
            <strong>{label}</strong>
            <p class="definition">{definition}</p>
        </div>
    }
}

fn headline(total: &Figures, estimates: &Accuracy) -> impl IntoView {
    view! {
        <div class="tiles figures">
            {tile("offered", "offered", total.offered.to_string(), "Customers who entered the queue (a transfer enters the queue it goes to).")}
            {tile("answered", "answered", total.answered.to_string(), "Customers connected to a representative.")}
            {tile("abandoned", "abandoned", total.abandoned.to_string(), "Left while waiting, after more than the short-abandon threshold.")}
            {tile("short-abandons", "short abandons", total.short_abandoned.to_string(), "Left within the short-abandon threshold (default 5 s); counted apart, in no rate.")}
            {tile("service-level", "service level", shown_percent(total.service_level()), "Answered within the queue's threshold T ÷ (answered + abandoned after T); T is set per queue (default 20 s).")}
            {tile("asa", "ASA", human(total.asa()), "Average speed of answer: mean wait of answered customers.")}
            {tile("aht", "AHT", human(total.aht()), "Average handle time: mean talk + hold + wrap-up of handled sessions.")}
            {tile("abandonment-rate", "abandonment rate", shown_percent(total.abandonment_rate()), "Abandoned ÷ (answered + abandoned).")}
            {tile("occupancy", "occupancy", shown_percent(total.occupancy()), "Time handling ÷ (time handling + time READY and idle), across all queues.")}
            {tile("csat", "CSAT", stars(total.csat()), "Mean customer rating, 1 to 5.")}
            {tile("csat-responses", "CSAT response rate", shown_percent(total.response_rate()), "Ratings ÷ handled sessions.")}
            {tile("timed-out", "timed out", total.expired.to_string(), "Taken out of the line at the queue's maximum wait, or away at the front past the time kept for them.")}
            {tile("callbacks-requested", "callbacks requested", total.callbacks_requested.to_string(), "Customers who asked to be called back, on entering or while waiting.")}
            {tile("callback-calls", "callback calls", total.callback_attempts.to_string(), "Calls representatives made to them (each try counts).")}
            {tile("reached-rate", "reached rate", shown_percent(total.reached_rate()), "Callbacks reached ÷ callbacks requested.")}
            {tile("time-to-reach", "time to reach", human(total.time_to_reach()), "Mean time from the request to the call that reached the customer.")}
            {tile("estimate-accuracy", "estimate accuracy", shown_percent(estimates.rate()), ACCURACY_DEFINITION)}
        </div>
    }
}

fn csv_link(report: &Report, kind: TableKind) -> impl IntoView {
    let href = format!("/admin/export.csv?table={}&{}", kind.as_str(), report.query_string());
    view! { <a class="csv" href=href download="" data-testid=format!("csv-{}", kind.as_str())>"Download CSV"</a> }
}

fn table_view(report: &Report, kind: TableKind, title: &'static str) -> AnyView {
    let table = report.table(kind);
    let header = table.columns.into_iter().map(|column| view! { <th>{column}</th> }).collect_view();
    let rows = table
        .rows
        .into_iter()
        .map(|row| view! { <tr>{row.into_iter().map(|cell| view! { <td>{cell}</td> }).collect_view()}</tr> })
        .collect_view();
    view! {
        <div class="table-head">
            <h3>{title}</h3>
            {csv_link(report, kind)}
        </div>
        <Scrolling label=title>
            <table data-testid=format!("table-{}", kind.as_str())>
                <thead><tr>{header}</tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </Scrolling>
    }
    .into_any()
}

#[component]
fn ReportView(report: Report) -> impl IntoView {
    let days = report.by_day.len();
    let range = if report.from == report.to { report.from.clone() } else { format!("{} to {}", report.from, report.to) };
    let scope = match report.queue.and_then(|id| report.queues.iter().find(|queue| queue.id == id)) {
        Some(queue) => format!("queue {}", queue.name),
        None => "all queues".to_owned(),
    };
    let hour_chart = view! {
        <VolumeChart title="Volume and service level by hour of day".into() lines=report.by_hour.clone() label_every=2 testid="chart-hours" table="By hour of day"/>
    }
    .into_any();
    let day_chart = view! {
        <VolumeChart title="Volume and service level by day".into() lines=report.by_day.clone() label_every=(days / 10).max(1) testid="chart-days" table="By day"/>
    }
    .into_any();
    view! {
        <RangeForm report=report.clone()/>
        <p class="muted" data-testid="range-shown">
            {format!("{range}, {scope}. Days and hours in {}. ", report.time_zone)}
            "Each customer counts in the quarter hour they entered the queue; representatives' time is counted as it passes."
        </p>
        {headline(&report.total, &Accuracy::total(&report.estimates))}
        <div class="table-head"><h3>"By hour of day"</h3>{csv_link(&report, TableKind::Hours)}</div>
        {hour_chart}
        <div class="table-head"><h3>"By day"</h3>{csv_link(&report, TableKind::Days)}</div>
        {day_chart}
        {table_view(&report, TableKind::Queues, "By queue")}
        {table_view(&report, TableKind::Representatives, "By representative")}
        <p class="definition">
            "Representatives: answered = customers they connected with; handled = sessions they finished "
            "(wrap-up done, or transferred on); AHT, occupancy and CSAT as above; not ready = hours NOT_READY with no customer; "
            "missed offers = offers not answered in time (RONA)."
        </p>
        {table_view(&report, TableKind::Hours, "By hour of day")}
        {table_view(&report, TableKind::Days, "By day")}
        {table_view(&report, TableKind::Estimates, "Estimate accuracy by queue and channel")}
        <p class="definition">{ACCURACY_DEFINITION}</p>
    }
}
