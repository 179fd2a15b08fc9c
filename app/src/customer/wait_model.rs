//! The wait a customer can expect (SPEC §5), as a distribution rather than
//! one number, so the range shown can be calibrated.
//!
//! With every seat busy, a customer with `n` customers ahead of them gets a
//! seat after `n + 1` departures from the line ahead of them: each is either
//! a service starting (all seats together: `seats × service_rate` a second)
//! or one of the `k` customers still ahead giving up (`k × abandon_rate`).
//! So the wait is a sum of `n + 1` exponential stages of rates
//! `seats × service_rate + k × abandon_rate`, k = n, n − 1, ..., 0.
//!
//! Its percentiles are computed exactly for short lines (the stages as a
//! Markov chain, by uniformization) and, past [`EXACT_UP_TO`] ahead, from a
//! gamma distribution with the same mean and variance (the sum of many
//! stages is close to it), by the Wilson–Hilferty cube-root rule.
//!
//! The customer first in line waits for the first of the busy seats to free
//! up, and there the handle times' own shape shows: with log-normal handle
//! times, as calls have, most seats free up sooner than an exponential
//! stage says and a few much later. So that one stage is taken from the
//! latest handle times themselves (see [`Line::first_seat`]).

/// Lines with at most this many ahead are computed exactly.
pub const EXACT_UP_TO: u32 = 60;

/// What the wait depends on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Line {
    /// Customers ahead (0: next).
    pub ahead: u32,
    /// Seats serving the line (each representative counted by their
    /// capacity on the channel, shared ones by their share).
    pub seats: f64,
    /// Services a seat starts per second while busy.
    pub service_rate: f64,
    /// Customers who give up per second waited.
    pub abandon_rate: f64,
}

/// The wait's distribution, ready for its quantiles.
#[derive(Debug, Clone, PartialEq)]
pub enum Wait {
    /// By uniformization: after `j` jumps of a Poisson clock of rate `top`
    /// the customer has been reached with probability `reached[j]`.
    Exact { top: f64, reached: Vec<f64>, log_factorial: Vec<f64>, mean: f64, sd: f64 },
    /// A gamma distribution of the stages' mean and variance.
    Gamma { shape: f64, scale: f64 },
    /// The first of `seats` busy seats to free up, each service's time left
    /// drawn as from a service found going on at a random moment: with the
    /// handle times `handles` (scaled to the measured service rate),
    /// P(left > t) = Σ (h − t)⁺ / Σ h, and P(wait > t) that to the power
    /// `seats`.
    FirstSeat { handles: Vec<f64>, seats: f64 },
}

impl Line {
    /// The rate of the stage with `k` customers still ahead.
    fn stage(&self, k: u32) -> f64 {
        self.seats * self.service_rate + f64::from(k) * self.abandon_rate
    }

    /// Something serves the line, at a rate that makes sense.
    fn served(&self) -> bool {
        self.seats > 0.0 && self.service_rate > 0.0 && self.abandon_rate >= 0.0
    }

    /// Mean and variance of the wait.
    pub fn moments(&self) -> (f64, f64) {
        (0..=self.ahead)
            .map(|k| self.stage(k))
            .fold((0.0, 0.0), |(mean, var), rate| (mean + 1.0 / rate, var + 1.0 / (rate * rate)))
    }

    /// The wait's distribution; `None` when nothing serves the line.
    pub fn wait(&self) -> Option<Wait> {
        if !self.served() {
            return None;
        }
        Some(if self.ahead <= EXACT_UP_TO { self.exact() } else { self.gamma() })
    }

    /// The stages as a chain jumping at most at rate `top` (the fastest
    /// stage's): the chance of having been reached after each jump.
    fn exact(&self) -> Wait {
        let top = self.stage(self.ahead);
        // mass[i]: in the stage with i customers still ahead (i = ahead at
        // the start); done: past the last stage.
        let mut mass = vec![0.0; self.ahead as usize + 1];
        mass[self.ahead as usize] = 1.0;
        let mut reached = vec![0.0];
        let mut done = 0.0;
        while done < 1.0 - 1e-9 && reached.len() < 100_000 {
            let mut carried = 0.0;
            for (k, m) in mass.iter_mut().enumerate().rev() {
                let here = *m;
                let go = self.stage(k as u32) / top;
                *m = here * (1.0 - go) + carried;
                carried = here * go;
            }
            done += carried;
            reached.push(done);
        }
        let (mean, var) = self.moments();
        let log_factorial = (0..reached.len())
            .scan(0.0, |sum, j| {
                if j > 0 {
                    *sum += (j as f64).ln();
                }
                Some(*sum)
            })
            .collect();
        Wait::Exact { top, reached, log_factorial, mean, sd: var.sqrt() }
    }

    /// The wait of the customer first in line (`ahead` is 0) with the time
    /// left of each busy seat's service taken from the latest handle times,
    /// scaled to the measured service rate; `None` when nothing serves the
    /// line or no handle time is known.
    pub fn first_seat(&self, handles: &[f64]) -> Option<Wait> {
        let measured_mean = handles.iter().sum::<f64>() / handles.len() as f64;
        if self.ahead != 0 || !self.served() || measured_mean.is_nan() || measured_mean <= 0.0 {
            return None;
        }
        let scale = 1.0 / (self.service_rate * measured_mean);
        Some(Wait::FirstSeat { handles: handles.iter().map(|h| h * scale).collect(), seats: self.seats })
    }

    fn gamma(&self) -> Wait {
        let (mean, var) = self.moments();
        Wait::Gamma { shape: mean * mean / var, scale: var / mean }
    }
}

impl Wait {
    /// P(wait ≤ t).
    fn cdf(&self, t: f64) -> f64 {
        if let Wait::FirstSeat { handles, seats } = self {
            let left = |t: f64| handles.iter().map(|h| (h - t).max(0.0)).sum::<f64>();
            return 1.0 - (left(t) / left(0.0)).powf(*seats);
        }
        let Wait::Exact { top, reached, log_factorial, .. } = self else { return f64::NAN };
        // Σ_j Poisson(j; top·t) · reached[j], over the j where the Poisson
        // weights are not negligible (within 12 standard deviations of the
        // mean); past the last j computed the customer has been reached.
        let mean = top * t;
        if mean <= 0.0 {
            return reached[0];
        }
        let spread = 12.0 * mean.sqrt() + 12.0;
        let first = (mean - spread).max(0.0) as usize;
        let last = ((mean + spread) as usize).min(reached.len() - 1);
        let (mut total, mut weight) = (0.0, 0.0);
        for j in first..=last {
            let term = (-mean + j as f64 * mean.ln() - log_factorial[j]).exp();
            total += term * reached[j];
            weight += term;
        }
        // The weight left is (all but nothing) past `last`, where the
        // customer has been reached at least as surely as at `last`.
        total + (1.0 - weight).max(0.0) * reached[last]
    }

    /// The `t` in `0..high` where P(wait ≤ t) reaches `p`, by halving.
    fn bisect(&self, p: f64, high: f64) -> f64 {
        let (mut low, mut high) = (0.0, high);
        for _ in 0..50 {
            let mid = (low + high) / 2.0;
            if self.cdf(mid) < p {
                low = mid;
            } else {
                high = mid;
            }
        }
        (low + high) / 2.0
    }

    /// The wait not exceeded with probability `p`.
    pub fn quantile(&self, p: f64) -> f64 {
        match self {
            Wait::Exact { mean, sd, .. } => self.bisect(p, mean + 12.0 * sd),
            // Never past the longest service.
            Wait::FirstSeat { handles, .. } => self.bisect(p, handles.iter().copied().fold(0.0, f64::max)),
            // Wilson–Hilferty, with the normal quantile by Acklam's rule.
            Wait::Gamma { shape, scale } => {
                let c = 1.0 / (9.0 * shape);
                shape * scale * (1.0 - c + normal_quantile(p) * c.sqrt()).max(0.0).powi(3)
            }
        }
    }
}

/// The standard normal's quantile (Acklam's rational approximation,
/// relative error under 1.2e-9).
#[expect(clippy::excessive_precision, reason = "Acklam's coefficients, as published")]
fn normal_quantile(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969683028665376e1,
        2.209460984245205e2,
        -2.759285104469687e2,
        1.383577518672690e2,
        -3.066479806614716e1,
        2.506628277459239,
    ];
    const B: [f64; 5] =
        [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
    const C: [f64; 6] = [
        -7.784894002430293e-3,
        -3.223964580411365e-1,
        -2.400758277161838,
        -2.549732539343734,
        4.374664141464968,
        2.938163982698783,
    ];
    const D: [f64; 4] = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
    let p = p.clamp(1e-12, 1.0 - 1e-12);
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    if p < 0.02425 {
        tail((-2.0 * p.ln()).sqrt())
    } else if p > 1.0 - 0.02425 {
        -tail((-2.0 * (1.0 - p).ln()).sqrt())
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    }
}

/// The range a customer is shown, in seconds: `(low, high)` widened for how
/// uncertain the measured service rate is (measured from about `samples`
/// services, its relative standard error is about 1/√samples, and a rate
/// too high by that much would make every wait that much shorter).
pub fn shown_range((low, high): (f64, f64), samples: f64) -> (f64, f64) {
    let error = WIDEN / samples.max(1.0).sqrt();
    (low / (1.0 + error), high * (1.0 + error))
}

/// The range in words: "less than a minute" when even its top is under a
/// minute, "up to H minutes" when its bottom is, "about L–H minutes"
/// otherwise (whole minutes, rounded outwards).
pub fn in_words((low, high): (f64, f64)) -> String {
    if high < 60.0 {
        return "less than a minute".to_owned();
    }
    let top = (high / 60.0).ceil() as i64;
    if low < 60.0 {
        return format!("up to {top} minutes");
    }
    let bottom = ((low / 60.0).floor() as i64).max(1);
    format!("about {bottom}–{} minutes", top.max(bottom + 1))
}

/// Standard errors of the measured rate the range is widened by.
const WIDEN: f64 = 0.15;

/// What the engine measured of a queue and channel: sums over its recent
/// history, each moment weighted by `e^(−age / FORGET_SECONDS)`, so the last
/// hour counts most.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Measured {
    /// Services that ended, and the seconds seats were busy with services.
    pub services: f64,
    pub busy_seconds: f64,
    /// Customers who left the line unserved, and the seconds customers
    /// waited in it.
    pub abandons: f64,
    pub waited_seconds: f64,
}

/// How fast the measurements forget: about an hour.
pub const FORGET_SECONDS: f64 = 3600.0;

/// The handle times measuring starts from, and the first seat's shape comes
/// from: this many of the latest services ([`DEFAULT_HANDLE_SECONDS`]
/// before there are any; the shape from at least [`SHAPE_FROM`]).
pub const RECENT_SERVICES: usize = 50;
pub const DEFAULT_HANDLE_SECONDS: f64 = 300.0;
pub const SHAPE_FROM: usize = 10;

/// Before much is measured the service rate starts from the average handle
/// time, as if from this many services of it, and abandonment from none in
/// this many seconds waited (a minute: more would hold the measured rate
/// down for long, and customers ahead do give up).
pub const PRIOR_SERVICES: f64 = 30.0;
pub const PRIOR_WAITED_SECONDS: f64 = 60.0;

/// The average of the latest handle times, or [`DEFAULT_HANDLE_SECONDS`]
/// while none is known (or all took no time).
pub fn handle_seconds(handles: &[f64]) -> f64 {
    let mean = handles.iter().sum::<f64>() / handles.len().max(1) as f64;
    if mean > 0.0 {
        mean
    } else {
        DEFAULT_HANDLE_SECONDS
    }
}

/// The range shown to a customer, in seconds, and its middle (the median).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Range {
    pub low: f64,
    pub middle: f64,
    pub high: f64,
}

impl Measured {
    /// Services a busy seat ends per second.
    pub fn service_rate(&self, handle_seconds: f64) -> f64 {
        (self.services + PRIOR_SERVICES) / (self.busy_seconds + PRIOR_SERVICES * handle_seconds)
    }

    /// Customers giving up per second waited.
    pub fn abandon_rate(&self) -> f64 {
        self.abandons / (self.waited_seconds + PRIOR_WAITED_SECONDS)
    }
}

/// The estimate of a customer with `ahead` customers ahead of them, served
/// by `seats`, given what was measured and the latest handle times
/// (`handles`, at most [`RECENT_SERVICES`]: the service rate starts from
/// their average, and the first in line's wait takes their shape). `None`
/// when nothing serves the line. The server's pages and `switchboard
/// simulate` both estimate with this.
pub fn estimate(ahead: u32, seats: f64, handles: &[f64], measured: &Measured) -> Option<Range> {
    let line = Line {
        ahead,
        seats,
        service_rate: measured.service_rate(handle_seconds(handles)),
        abandon_rate: measured.abandon_rate(),
    };
    let first = if handles.len() >= SHAPE_FROM { line.first_seat(handles) } else { None };
    let wait = match first {
        Some(first) => first,
        None => line.wait()?,
    };
    let (bottom, top) = if ahead == 0 { FIRST_IN_LINE } else { BEHIND };
    let (low, high) = shown_range((wait.quantile(bottom), wait.quantile(top)), measured.services + PRIOR_SERVICES);
    Some(Range { low, middle: wait.quantile(0.5), high })
}

/// The percentiles the range runs between: from the 2nd to the 83rd for
/// the customer first in line, from the 8th to the 85th behind. Both hold
/// about four customers in five on the simulated days (`switchboard
/// simulate`) once widened for the rate's uncertainty. First in line the
/// wait is most often short with a long tail, so the range starts at
/// almost nothing and stops before it grows to twice the average wait;
/// behind, a top a little higher keeps fewer customers giving up after it
/// has passed.
pub const FIRST_IN_LINE: (f64, f64) = (0.02, 0.83);
pub const BEHIND: (f64, f64) = (0.08, 0.85);

#[cfg(test)]
mod tests {
    use super::*;

    /// The 10th, 50th and 90th percentiles of the wait, in seconds.
    #[derive(Debug)]
    struct Percentiles {
        p10: f64,
        p50: f64,
        p90: f64,
    }

    fn percentiles(line: Line) -> Option<Percentiles> {
        let wait = line.wait()?;
        Some(Percentiles { p10: wait.quantile(0.1), p50: wait.quantile(0.5), p90: wait.quantile(0.9) })
    }

    fn close(a: f64, b: f64, within: f64) -> bool {
        (a - b).abs() <= within * b.abs().max(1e-9)
    }

    #[test]
    fn the_next_customer_waits_an_exponential_time() {
        // One stage of rate 2 seats × 1/300 s: percentiles −ln(1 − p) × 150 s.
        let line = Line { ahead: 0, seats: 2.0, service_rate: 1.0 / 300.0, abandon_rate: 0.0 };
        let p = percentiles(line).unwrap();
        assert!(close(p.p10, 150.0 * -(0.9f64).ln(), 1e-6), "{p:?}");
        assert!(close(p.p50, 150.0 * 2f64.ln(), 1e-6), "{p:?}");
        assert!(close(p.p90, 150.0 * 10f64.ln(), 1e-6), "{p:?}");
    }

    #[test]
    fn without_abandonment_the_wait_is_erlang() {
        // 4 stages of rate 1/60: Erlang(4, 1/60 s). Its known quantiles
        // (chi-square with 8 degrees of freedom, halved, × 60 s): 10% 3.4895/2,
        // 50% 7.3441/2, 90% 13.3616/2.
        let line = Line { ahead: 3, seats: 1.0, service_rate: 1.0 / 60.0, abandon_rate: 0.0 };
        let p = percentiles(line).unwrap();
        assert!(close(p.p10, 30.0 * 3.4895, 1e-3), "{p:?}");
        assert!(close(p.p50, 30.0 * 7.3441, 1e-3), "{p:?}");
        assert!(close(p.p90, 30.0 * 13.3616, 1e-3), "{p:?}");
    }

    #[test]
    fn abandonment_ahead_shortens_the_wait_as_worked_by_hand() {
        // One ahead: stages of rate a = 1/100 (nobody ahead) and b = 1/100 +
        // 1/200 = 3/200 (one ahead who may give up). The sum of two
        // exponentials: P(W > t) = (b e^(−a t) − a e^(−b t)) / (b − a)
        // = 3 e^(−t/100) − 2 e^(−3t/200). At t = 100 ln 4 that is
        // 3/4 − 2/8 = 1/2: the median is 138.63 s.
        let line = Line { ahead: 1, seats: 1.0, service_rate: 1.0 / 100.0, abandon_rate: 1.0 / 200.0 };
        let p = percentiles(line).unwrap();
        let cdf = |t: f64| 1.0 - (3.0 * (-t / 100.0).exp() - 2.0 * (-3.0 * t / 200.0).exp());
        assert!(close(cdf(p.p50), 0.5, 1e-6), "{p:?}");
        assert!(close(cdf(p.p10), 0.1, 1e-6) && close(cdf(p.p90), 0.9, 1e-6), "{p:?}");
        assert!(close(p.p50, 100.0 * 4f64.ln(), 1e-6), "{p:?}");
        let patient = percentiles(Line { abandon_rate: 0.0, ..line }).unwrap();
        assert!(p.p90 < patient.p90, "those ahead giving up shorten the wait");
    }

    #[test]
    fn long_lines_use_a_gamma_close_to_the_exact_one() {
        let at = |ahead| Line { ahead, seats: 3.0, service_rate: 1.0 / 240.0, abandon_rate: 1.0 / 900.0 };
        let (exact, approx) = (at(EXACT_UP_TO).exact(), at(EXACT_UP_TO).gamma());
        for p in [0.1, 0.5, 0.9] {
            assert!(close(approx.quantile(p), exact.quantile(p), 0.01), "{p}: {approx:?}");
        }
        let long = percentiles(at(500)).unwrap();
        assert!(long.p10 < long.p50 && long.p50 < long.p90 && long.p90 > percentiles(at(100)).unwrap().p90);
    }

    #[test]
    fn the_range_is_widened_for_a_rate_measured_from_few_services_and_said_in_minutes() {
        let (low, high) = shown_range((120.0, 600.0), 1e12);
        assert!(close(low, 120.0, 1e-5) && close(high, 600.0, 1e-5), "well measured: as it is");
        let (low, high) = shown_range((120.0, 600.0), 4.0);
        assert!(close(low, 120.0 / 1.075, 1e-9) && close(high, 645.0, 1e-9), "four services: 0.15 standard errors of a half");
        assert_eq!(in_words((10.0, 50.0)), "less than a minute");
        assert_eq!(in_words((20.0, 150.0)), "up to 3 minutes");
        assert_eq!(in_words((130.0, 590.0)), "about 2–10 minutes");
        assert_eq!(in_words((61.0, 100.0)), "about 1–2 minutes");
    }

    #[test]
    fn the_range_runs_between_its_percentiles_widened_for_the_rate() {
        // One handle time known (too few for its shape): one exponential
        // stage with a mean of 100 s, measured from 1 + 30 services (the
        // prior's): −100 ln(1 − p), widened by 0.15 / √31.
        let measured = Measured { services: 1.0, busy_seconds: 100.0, abandons: 0.0, waited_seconds: 0.0 };
        let range = estimate(0, 1.0, &[100.0], &measured).unwrap();
        let error = 0.15 / 31f64.sqrt();
        assert!(close(range.low, -100.0 * 0.98f64.ln() / (1.0 + error), 1e-4), "{range:?}");
        assert!(close(range.high, -100.0 * 0.17f64.ln() * (1.0 + error), 1e-4), "{range:?}");
        assert!(close(range.middle, 100.0 * 2f64.ln(), 1e-4), "{range:?}");
        // With people ahead the range moves out, runs from the 8th to the
        // 85th percentile, and is narrower for its mean.
        let far = estimate(10, 1.0, &[100.0], &measured).unwrap();
        let line = Line { ahead: 10, seats: 1.0, service_rate: 0.01, abandon_rate: 0.0 }.wait().unwrap();
        assert!(close(far.high, line.quantile(0.85) * (1.0 + error), 1e-4), "{far:?}");
        assert!(far.low > range.high && (far.high - far.low) / far.middle < (range.high - range.low) / range.middle);
    }

    #[test]
    fn the_first_in_line_waits_for_the_first_busy_seat_by_the_handle_times_shape() {
        // Every service takes 120 s, and nothing else is measured (the rate
        // is the prior's, 1/120 s): a service found going on has 120 − u
        // seconds left, u uniform, so with two seats busy P(wait > t) =
        // ((120 − t) / 120)², and the p-th percentile is 120 (1 − √(1 − p)).
        let handles = [120.0; SHAPE_FROM];
        let at = |p: f64| 120.0 * (1.0 - (1.0 - p).sqrt());
        let range = estimate(0, 2.0, &handles, &Measured::default()).unwrap();
        let error = 0.15 / 30f64.sqrt();
        assert!(close(range.middle, at(0.5), 1e-6), "{range:?}");
        assert!(
            close(range.low, at(0.02) / (1.0 + error), 1e-6) && close(range.high, at(0.83) * (1.0 + error), 1e-6),
            "{range:?}"
        );
        // Far shorter than an exponential stage of the same mean would say,
        // and never past the longest service.
        let exponential = Line { ahead: 0, seats: 2.0, service_rate: 1.0 / 120.0, abandon_rate: 0.0 }.wait().unwrap();
        assert!(range.high < exponential.quantile(0.83) && range.high < 120.0 * (1.0 + error));
        // Behind, and with fewer handle times than the shape needs, the
        // stages are exponential.
        let behind = Line { ahead: 1, seats: 2.0, service_rate: 1.0 / 120.0, abandon_rate: 0.0 }.wait().unwrap();
        assert_eq!(estimate(1, 2.0, &handles, &Measured::default()).unwrap().middle, behind.quantile(0.5));
        assert_eq!(estimate(0, 2.0, &handles[1..], &Measured::default()).unwrap().middle, exponential.quantile(0.5));
    }

    #[test]
    fn the_gamma_quantiles_use_the_normal_quantile() {
        assert!(close(normal_quantile(0.9), 1.281_551_565_5, 1e-8));
        assert!(close(normal_quantile(0.025), -1.959_963_985, 1e-8));
        assert!(normal_quantile(0.5).abs() < 1e-12);
    }

    #[test]
    fn nothing_serving_cannot_be_estimated() {
        assert!(percentiles(Line { ahead: 2, seats: 0.0, service_rate: 0.01, abandon_rate: 0.0 }).is_none());
        assert!(percentiles(Line { ahead: 2, seats: 2.0, service_rate: 0.0, abandon_rate: 0.0 }).is_none());
    }
}
