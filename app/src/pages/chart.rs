//! Charts drawn by the app as SVG: volume as stacked bars (answered,
//! abandoned, the rest of what was offered) and service level as a line on
//! its own 0–100% axis. No script, no charting service.

use leptos::prelude::*;

use crate::metrics::{percent, Line};

const WIDTH: f64 = 760.0;
const HEIGHT: f64 = 260.0;
const LEFT: f64 = 44.0;
const RIGHT: f64 = 48.0;
const TOP: f64 = 14.0;
const BOTTOM: f64 = 40.0;

/// A round top for the volume axis, and its tick step (4 steps).
fn axis_top(max: i64) -> (i64, i64) {
    let max = max.max(4);
    let rough = (max as f64 / 4.0).ceil() as i64;
    let magnitude = 10_i64.pow(rough.to_string().len() as u32 - 1);
    let step = [1, 2, 5, 10].iter().map(|m| m * magnitude).find(|step| *step >= rough).unwrap_or(rough);
    (step * 4, step)
}

/// Volume and service level of each line, left to right. `label_every`
/// thins the x labels (every day of 30 would not fit).
#[component]
pub fn VolumeChart(
    title: String,
    lines: Vec<Line>,
    label_every: usize,
    testid: &'static str,
    /// The title of the table with the same figures, the chart's text
    /// alternative.
    table: &'static str,
) -> impl IntoView {
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let max = lines.iter().map(|line| line.figures.offered).max().unwrap_or(0);
    let (top, step) = axis_top(max);
    let slot = plot_w / lines.len().max(1) as f64;
    let bar = (slot * 0.7).max(1.0);
    let y = move |value: i64| TOP + plot_h - plot_h * value as f64 / top as f64;
    let y_percent = move |ratio: f64| TOP + plot_h - plot_h * ratio;

    let ticks = (0..=4)
        .map(|i| {
            let value = step * i;
            let at = y(value);
            view! {
                <line x1=LEFT x2=WIDTH - RIGHT y1=at y2=at class="grid"/>
                <text x=LEFT - 6.0 y=at + 4.0 text-anchor="end" class="tick">{value}</text>
                <text x=WIDTH - RIGHT + 6.0 y=y_percent(i as f64 / 4.0) + 4.0 class="tick">{format!("{}%", i * 25)}</text>
            }
        })
        .collect_view();

    let bars = lines
        .iter()
        .enumerate()
        .map(|(i, line)| {
            let f = &line.figures;
            let x = LEFT + slot * i as f64 + (slot - bar) / 2.0;
            let answered_top = y(f.answered);
            let abandoned_top = y(f.answered + f.abandoned);
            let offered_top = y(f.offered.max(f.answered + f.abandoned));
            let tip = format!(
                "{}: offered {}, answered {}, abandoned {}, service level {}%",
                line.label,
                f.offered,
                f.answered,
                f.abandoned,
                percent(f.service_level())
            );
            let label = (i % label_every.max(1) == 0).then(|| {
                view! {
                    <text x=x + bar / 2.0 y=HEIGHT - BOTTOM + 16.0 text-anchor="middle" class="tick">{line.label.clone()}</text>
                }
            });
            view! {
                <g>
                    <title>{tip}</title>
                    <rect class="offered" x=x width=bar y=offered_top height=(abandoned_top - offered_top).max(0.0)/>
                    <rect class="abandoned" x=x width=bar y=abandoned_top height=(answered_top - abandoned_top).max(0.0)/>
                    <rect class="answered" x=x width=bar y=answered_top height=(y(0) - answered_top).max(0.0)/>
                    {label}
                </g>
            }
        })
        .collect_view();

    let points: Vec<(f64, f64)> = lines
        .iter()
        .enumerate()
        .filter_map(|(i, line)| line.figures.service_level().map(|level| (LEFT + slot * (i as f64 + 0.5), y_percent(level))))
        .collect();
    let path = points.iter().map(|(x, y)| format!("{x:.1},{y:.1}")).collect::<Vec<_>>().join(" ");
    let dots = points.iter().map(|(x, y)| view! { <circle class="level" cx=*x cy=*y r="3"/> }).collect_view();

    let about = format!("{testid}-about");
    let description = describe(&lines, table);
    view! {
        <figure class="chart" data-testid=testid>
            <figcaption>{title.clone()}</figcaption>
            <svg viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img" aria-label=title aria-describedby=about.clone()>
                {ticks}
                <text x="10" y=TOP + plot_h / 2.0 class="axis" transform=format!("rotate(-90 10 {})", TOP + plot_h / 2.0) text-anchor="middle">"customers"</text>
                <text x=WIDTH - 6.0 y=TOP + plot_h / 2.0 class="axis" transform=format!("rotate(90 {} {})", WIDTH - 6.0, TOP + plot_h / 2.0) text-anchor="middle">"service level"</text>
                {bars}
                <polyline class="level" points=path/>
                {dots}
                <line x1=LEFT x2=WIDTH - RIGHT y1=y(0) y2=y(0) class="axis-line"/>
            </svg>
            <p class="legend">
                <span class="key answered"></span>"answered "
                <span class="key abandoned"></span>"abandoned "
                <span class="key offered"></span>"other offered (short abandons, timed out, still waiting) "
                <span class="key level"></span>"service level"
            </p>
            <p class="definition" id=about data-testid=format!("{testid}-description")>{description}</p>
        </figure>
    }
}

/// The chart in words, for those who do not see it: what it draws, its
/// busiest bar, and where its figures are as a table.
fn describe(lines: &[Line], table: &str) -> String {
    let busiest = lines.iter().filter(|line| line.figures.offered > 0).max_by_key(|line| line.figures.offered);
    let peak = match busiest {
        Some(line) => format!(
            "The busiest is {}: {} offered, {} answered, {} abandoned. ",
            line.label, line.figures.offered, line.figures.answered, line.figures.abandoned
        ),
        None => "No customer was offered in this range. ".to_owned(),
    };
    format!(
        "Bars: customers offered, split into answered, abandoned and the rest; line: the service level. {peak}\
         Every figure is in the table “{table}” below."
    )
}

#[cfg(test)]
mod tests {
    use super::axis_top;

    #[test]
    fn the_volume_axis_ends_on_a_round_number_above_the_highest_bar() {
        assert_eq!(axis_top(0), (4, 1));
        assert_eq!(axis_top(7), (8, 2));
        assert_eq!(axis_top(37), (40, 10));
        assert_eq!(axis_top(1234), (2000, 500));
    }
}
