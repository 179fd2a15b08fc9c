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

/// The 10th, 50th and 90th percentiles of the wait, in seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Percentiles {
    pub p10: f64,
    pub p50: f64,
    pub p90: f64,
}

impl Line {
    /// The rate of the stage with `k` customers still ahead.
    fn stage(&self, k: u32) -> f64 {
        self.seats * self.service_rate + f64::from(k) * self.abandon_rate
    }

    /// Mean and variance of the wait.
    pub fn moments(&self) -> (f64, f64) {
        (0..=self.ahead).map(|k| self.stage(k)).fold((0.0, 0.0), |(mean, var), rate| (mean + 1.0 / rate, var + 1.0 / (rate * rate)))
    }

    /// The wait's percentiles; `None` when nothing serves the line.
    pub fn percentiles(&self) -> Option<Percentiles> {
        if !(self.seats > 0.0 && self.service_rate > 0.0) || self.abandon_rate < 0.0 {
            return None;
        }
        Some(if self.ahead <= EXACT_UP_TO { self.exact() } else { self.gamma() })
    }

    /// By uniformization: the stages are a chain jumping at most at rate
    /// `top`; after `j` jumps of a Poisson clock of rate `top` the customer
    /// has been reached with probability `reached[j]`.
    fn exact(&self) -> Percentiles {
        let top = self.stage(self.ahead);
        // mass[i]: in the stage with i customers still ahead (i = ahead at
        // the start); reached: past the last stage.
        let mut mass = vec![0.0; self.ahead as usize + 1];
        mass[self.ahead as usize] = 1.0;
        let mut reached = vec![0.0];
        let mut done = 0.0;
        while done < 1.0 - 1e-12 && reached.len() < 1_000_000 {
            let mut next = vec![0.0; mass.len()];
            for (k, &m) in mass.iter().enumerate() {
                if m == 0.0 {
                    continue;
                }
                let go = self.stage(k as u32) / top;
                next[k] += m * (1.0 - go);
                if k == 0 {
                    done += m * go;
                } else {
                    next[k - 1] += m * go;
                }
            }
            mass = next;
            reached.push(done);
        }
        // P(wait ≤ t) = Σ_j Poisson(j; top·t) · reached[j], where past the
        // last j computed the customer has been reached for certain.
        let last = reached.last().copied().unwrap_or(1.0);
        let cdf = |t: f64| -> f64 {
            let mean = top * t;
            let (mut total, mut weight) = (0.0, 0.0);
            let mut log_factorial = 0.0;
            for (j, &r) in reached.iter().enumerate() {
                if j > 0 {
                    log_factorial += (j as f64).ln();
                }
                let term = if mean > 0.0 { (-mean + j as f64 * mean.ln() - log_factorial).exp() } else if j == 0 { 1.0 } else { 0.0 };
                total += term * r;
                weight += term;
            }
            total + (1.0 - weight).max(0.0) * last
        };
        let (mean, var) = self.moments();
        let quantile = |p: f64| {
            let (mut low, mut high) = (0.0, mean + 12.0 * var.sqrt());
            for _ in 0..60 {
                let mid = (low + high) / 2.0;
                if cdf(mid) < p {
                    low = mid;
                } else {
                    high = mid;
                }
            }
            (low + high) / 2.0
        };
        Percentiles { p10: quantile(0.1), p50: quantile(0.5), p90: quantile(0.9) }
    }

    /// A gamma distribution of the same mean and variance, its quantiles by
    /// Wilson–Hilferty.
    fn gamma(&self) -> Percentiles {
        let (mean, var) = self.moments();
        let shape = mean * mean / var;
        let scale = var / mean;
        let quantile = |z: f64| {
            let c = 1.0 / (9.0 * shape);
            shape * scale * (1.0 - c + z * c.sqrt()).max(0.0).powi(3)
        };
        Percentiles { p10: quantile(-Z90), p50: quantile(0.0), p90: quantile(Z90) }
    }
}

/// The range a customer is shown, in seconds: from the 10th to the 90th
/// percentile, widened for how uncertain the measured service rate is (it
/// was measured from about `samples` services: its relative standard error
/// is about 1/√samples, and a rate too high by that much would make every
/// wait that much shorter).
pub fn shown_range(percentiles: Percentiles, samples: f64) -> (f64, f64) {
    let error = Z90 / samples.max(1.0).sqrt();
    (percentiles.p10 / (1.0 + error), percentiles.p90 * (1.0 + error))
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

/// Before much is measured the service rate starts from the average handle
/// time, as if from this many services of it, and abandonment from none in
/// this many seconds waited.
pub const PRIOR_SERVICES: f64 = 10.0;
pub const PRIOR_WAITED_SECONDS: f64 = 600.0;

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
/// by `seats`, given what was measured (`handle_seconds`: the recent
/// average handle time the measurement starts from). `None` when nothing
/// serves the line. The server's pages and `switchboard simulate` both
/// estimate with this.
pub fn estimate(ahead: u32, seats: f64, handle_seconds: f64, measured: &Measured) -> Option<Range> {
    let line = Line { ahead, seats, service_rate: measured.service_rate(handle_seconds), abandon_rate: measured.abandon_rate() };
    let percentiles = line.percentiles()?;
    let (low, high) = shown_range(percentiles, measured.services + PRIOR_SERVICES);
    Some(Range { low, middle: percentiles.p50, high })
}

/// The standard normal's 90th percentile.
const Z90: f64 = 1.281_551_565_544_600_5;

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, within: f64) -> bool {
        (a - b).abs() <= within * b.abs().max(1e-9)
    }

    #[test]
    fn the_next_customer_waits_an_exponential_time() {
        // One stage of rate 2 seats × 1/300 s: percentiles −ln(1 − p) × 150 s.
        let line = Line { ahead: 0, seats: 2.0, service_rate: 1.0 / 300.0, abandon_rate: 0.0 };
        let p = line.percentiles().unwrap();
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
        let p = line.percentiles().unwrap();
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
        let p = line.percentiles().unwrap();
        let cdf = |t: f64| 1.0 - (3.0 * (-t / 100.0).exp() - 2.0 * (-3.0 * t / 200.0).exp());
        assert!(close(cdf(p.p50), 0.5, 1e-6), "{p:?}");
        assert!(close(cdf(p.p10), 0.1, 1e-6) && close(cdf(p.p90), 0.9, 1e-6), "{p:?}");
        assert!(close(p.p50, 100.0 * 4f64.ln(), 1e-6), "{p:?}");
        let patient = Line { abandon_rate: 0.0, ..line }.percentiles().unwrap();
        assert!(p.p90 < patient.p90, "those ahead giving up shorten the wait");
    }

    #[test]
    fn long_lines_use_a_gamma_close_to_the_exact_one() {
        let at = |ahead| Line { ahead, seats: 3.0, service_rate: 1.0 / 240.0, abandon_rate: 1.0 / 900.0 };
        let exact = at(EXACT_UP_TO).exact();
        let approx = at(EXACT_UP_TO).gamma();
        for (e, a) in [(exact.p10, approx.p10), (exact.p50, approx.p50), (exact.p90, approx.p90)] {
            assert!(close(a, e, 0.01), "exact {exact:?}, gamma {approx:?}");
        }
        let long = at(500).percentiles().unwrap();
        assert!(long.p10 < long.p50 && long.p50 < long.p90 && long.p90 > at(100).percentiles().unwrap().p90);
    }

    #[test]
    fn the_range_is_widened_for_a_rate_measured_from_few_services_and_said_in_minutes() {
        let p = Percentiles { p10: 120.0, p50: 300.0, p90: 600.0 };
        let (low, high) = shown_range(p, 1e12);
        assert!(close(low, 120.0, 1e-5) && close(high, 600.0, 1e-5), "well measured: the percentiles");
        let (low, high) = shown_range(p, 4.0);
        assert!(low < 120.0 && high > 600.0);
        assert!(close(high / 600.0, 1.0 + Z90 / 2.0, 1e-9), "four services: a standard error of a half");
        assert_eq!(in_words((10.0, 50.0)), "less than a minute");
        assert_eq!(in_words((20.0, 150.0)), "up to 3 minutes");
        assert_eq!(in_words((130.0, 590.0)), "about 2–10 minutes");
        assert_eq!(in_words((61.0, 100.0)), "about 1–2 minutes");
    }

    #[test]
    fn nothing_serving_cannot_be_estimated() {
        assert!(Line { ahead: 2, seats: 0.0, service_rate: 0.01, abandon_rate: 0.0 }.percentiles().is_none());
        assert!(Line { ahead: 2, seats: 2.0, service_rate: 0.0, abandon_rate: 0.0 }.percentiles().is_none());
    }
}
