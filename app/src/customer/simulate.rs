//! Simulated days of one queue, to see how often the wait a customer is
//! shown holds (`switchboard simulate`). Customers arrive with a morning
//! and an afternoon peak over a 12-hour day, are served first come first
//! served by a fixed team, and may give up; each customer who has to wait is
//! shown a range by [`super::wait_model`], from what the queue can know at
//! that moment: the customers ahead, the seats, and the service and
//! abandonment rates measured so far (decayed over about an hour, the
//! service rate started from the average handle time). The range is scored
//! against the wait the customer had, beside Asterisk's announcement (an
//! average of answered waits, `(3 × old + new) / 4`).

use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};

use rand::rngs::StdRng;
use rand::SeedableRng;
use rand_distr::{Distribution, Exp, LogNormal};

use super::wait_model::{shown_range, Line};

/// How long a service takes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Handle {
    /// Log-normal with this mean and coefficient of variation.
    LogNormal { mean: f64, cv: f64 },
    Exponential { mean: f64 },
}

/// How long a customer waits before giving up.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Patience {
    Exponential { mean: f64 },
    LogNormal { mean: f64, cv: f64 },
    /// Nobody gives up.
    Endless,
}

/// One simulated day.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    pub name: String,
    /// Arrivals per hour at the peaks (half that between them).
    pub peak_per_hour: f64,
    pub handle: Handle,
    pub patience: Patience,
    /// Representatives serving all day.
    pub team: u32,
    /// Customers each serves at once (3 on chat).
    pub seats_each: u32,
    pub seed: u64,
}

/// How the shown ranges held for the customers who waited, in a position
/// bucket or overall.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Score {
    /// Customers served after waiting (the ones scored).
    pub served: usize,
    /// Share whose wait fell inside the range shown.
    pub coverage: f64,
    /// Median of (top − bottom of the range) ÷ the wait.
    pub median_width: f64,
    /// Mean |middle of the range − wait|, seconds.
    pub mean_error: f64,
    /// The same for Asterisk's announced average.
    pub asterisk_error: f64,
    /// Of those who gave up, the share who did so after the top of their
    /// range had passed.
    pub late_abandons: f64,
}

/// A day's result: overall and by position when first shown (1, 2–5,
/// 6–20, over 20).
#[derive(Debug, Clone, PartialEq)]
pub struct DayResult {
    pub overall: Score,
    pub by_position: [(&'static str, Score); 4],
}

/// A rate measured from events, forgetting with a time constant: events ÷
/// exposure, both decayed.
#[derive(Debug, Clone, Copy)]
struct Meter {
    events: f64,
    exposure: f64,
    at: f64,
}

/// About an hour.
const FORGET_SECONDS: f64 = 3600.0;

impl Meter {
    fn new(events: f64, exposure: f64) -> Self {
        Self { events, exposure, at: 0.0 }
    }

    fn decay(&mut self, now: f64) {
        let keep = (-(now - self.at) / FORGET_SECONDS).exp();
        self.events *= keep;
        self.exposure *= keep;
        self.at = now;
    }

    fn add(&mut self, now: f64, events: f64, exposure: f64) {
        self.decay(now);
        self.events += events;
        self.exposure += exposure;
    }

    fn rate(&self) -> f64 {
        if self.exposure > 0.0 { self.events / self.exposure } else { 0.0 }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Happening {
    Arrival,
    ServiceEnd,
    GiveUp(usize),
}

#[derive(Debug, Clone, Copy)]
struct Due {
    at: f64,
    what: Happening,
}

impl PartialEq for Due {
    fn eq(&self, other: &Self) -> bool {
        self.at == other.at
    }
}
impl Eq for Due {}
impl PartialOrd for Due {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Due {
    /// Soonest first in a max-heap.
    fn cmp(&self, other: &Self) -> Ordering {
        other.at.total_cmp(&self.at)
    }
}

struct Customer {
    arrived: f64,
    patience: f64,
    /// Position when first shown, and the range shown then.
    shown: Option<(u32, f64, f64, f64)>,
    /// Asterisk's announcement when they arrived.
    asterisk: f64,
    gone: bool,
}

const DAY_SECONDS: f64 = 12.0 * 3600.0;

impl Scenario {
    /// Arrivals per second at time `t`: peaks at 2 h and 8 h into the day.
    fn arrival_rate(&self, t: f64) -> f64 {
        let hour = t / 3600.0;
        let peak = |at: f64| (-(hour - at).powi(2) / 2.0).exp();
        self.peak_per_hour / 3600.0 * (0.5 + 0.5 * peak(2.0).max(peak(8.0)))
    }

    fn handle_time(&self, rng: &mut StdRng) -> f64 {
        match self.handle {
            Handle::Exponential { mean } => Exp::new(1.0 / mean).map(|d| d.sample(rng)).unwrap_or(mean),
            Handle::LogNormal { mean, cv } => log_normal(mean, cv).sample(rng),
        }
    }

    fn patience_time(&self, rng: &mut StdRng) -> f64 {
        match self.patience {
            Patience::Exponential { mean } => Exp::new(1.0 / mean).map(|d| d.sample(rng)).unwrap_or(mean),
            Patience::LogNormal { mean, cv } => log_normal(mean, cv).sample(rng),
            Patience::Endless => f64::INFINITY,
        }
    }

    /// Runs the day.
    pub fn run(&self) -> DayResult {
        let mut rng = StdRng::seed_from_u64(self.seed);
        let seats = f64::from(self.team * self.seats_each);
        let mean_handle = match self.handle {
            Handle::Exponential { mean } | Handle::LogNormal { mean, .. } => mean,
        };
        // Started from the average handle time, as if from ten services.
        let mut service = Meter::new(10.0, 10.0 * mean_handle);
        let mut abandon = Meter::new(0.0, 600.0);
        let mut asterisk = 0.0_f64;
        let mut busy = 0u32;
        let mut line: VecDeque<usize> = VecDeque::new();
        let mut customers: Vec<Customer> = Vec::new();
        let mut due = BinaryHeap::new();
        let mut now = 0.0;
        // Arrivals by thinning a process at the peak rate.
        let peak_rate = self.peak_per_hour / 3600.0;
        let next_arrival = |from: f64, rng: &mut StdRng| from + Exp::new(peak_rate).map(|d| d.sample(rng)).unwrap_or(f64::INFINITY);
        due.push(Due { at: next_arrival(0.0, &mut rng), what: Happening::Arrival });
        let mut results: Vec<(u32, f64, f64, f64, f64, f64)> = Vec::new();
        let mut abandons: Vec<bool> = Vec::new();
        while let Some(Due { at, what }) = due.pop() {
            // Exposure since the last event: busy seats and waiting customers.
            service.add(at, 0.0, f64::from(busy) * (at - now));
            abandon.add(at, 0.0, line.len() as f64 * (at - now));
            now = at;
            match what {
                Happening::Arrival => {
                    if now < DAY_SECONDS {
                        due.push(Due { at: next_arrival(now, &mut rng), what: Happening::Arrival });
                    }
                    if now >= DAY_SECONDS || rng_unit(&mut rng) > self.arrival_rate(now) / peak_rate {
                        continue;
                    }
                    let id = customers.len();
                    let mut customer =
                        Customer { arrived: now, patience: self.patience_time(&mut rng), shown: None, asterisk, gone: false };
                    if f64::from(busy) < seats && line.is_empty() {
                        busy += 1;
                        let handle = self.handle_time(&mut rng);
                        due.push(Due { at: now + handle, what: Happening::ServiceEnd });
                        customers.push(customer);
                        continue;
                    }
                    let model = Line {
                        ahead: line.len() as u32,
                        seats,
                        service_rate: service.rate(),
                        abandon_rate: abandon.rate(),
                    };
                    if let Some(percentiles) = model.percentiles() {
                        let (low, high) = shown_range(percentiles, service.events);
                        customer.shown = Some((line.len() as u32 + 1, low, percentiles.p50, high));
                    }
                    if customer.patience.is_finite() {
                        due.push(Due { at: now + customer.patience, what: Happening::GiveUp(id) });
                    }
                    customers.push(customer);
                    line.push_back(id);
                }
                Happening::ServiceEnd => {
                    service.add(now, 1.0, 0.0);
                    busy -= 1;
                    // The next in line who is still there.
                    while let Some(id) = line.pop_front() {
                        let customer = &mut customers[id];
                        if customer.gone {
                            continue;
                        }
                        let wait = now - customer.arrived;
                        if let Some((position, low, middle, high)) = customer.shown {
                            results.push((position, wait, low, middle, high, customer.asterisk));
                        }
                        asterisk = if asterisk == 0.0 { wait } else { (3.0 * asterisk + wait) / 4.0 };
                        busy += 1;
                        let handle = self.handle_time(&mut rng);
                        due.push(Due { at: now + handle, what: Happening::ServiceEnd });
                        break;
                    }
                }
                Happening::GiveUp(id) => {
                    let customer = &mut customers[id];
                    if customer.gone || !line.contains(&id) {
                        continue;
                    }
                    customer.gone = true;
                    line.retain(|&other| other != id);
                    abandon.add(now, 1.0, 0.0);
                    if let Some((_, _, _, high)) = customer.shown {
                        abandons.push(now - customer.arrived > high);
                    }
                }
            }
        }
        let late = if abandons.is_empty() { 0.0 } else { abandons.iter().filter(|late| **late).count() as f64 / abandons.len() as f64 };
        let score = |rows: Vec<&(u32, f64, f64, f64, f64, f64)>| {
            if rows.is_empty() {
                return Score { late_abandons: late, ..Score::default() };
            }
            let n = rows.len() as f64;
            let mut widths: Vec<f64> = rows.iter().map(|r| (r.4 - r.2) / r.1.max(1.0)).collect();
            widths.sort_by(f64::total_cmp);
            Score {
                served: rows.len(),
                coverage: rows.iter().filter(|r| r.2 <= r.1 && r.1 <= r.4).count() as f64 / n,
                median_width: widths[widths.len() / 2],
                mean_error: rows.iter().map(|r| (r.3 - r.1).abs()).sum::<f64>() / n,
                asterisk_error: rows.iter().map(|r| (r.5 - r.1).abs()).sum::<f64>() / n,
                late_abandons: late,
            }
        };
        let bucket = |low: u32, high: u32| score(results.iter().filter(|r| (low..=high).contains(&r.0)).collect());
        DayResult {
            overall: score(results.iter().collect()),
            by_position: [("1", bucket(1, 1)), ("2-5", bucket(2, 5)), ("6-20", bucket(6, 20)), ("over 20", bucket(21, u32::MAX))],
        }
    }
}

fn rng_unit(rng: &mut StdRng) -> f64 {
    rand::Rng::gen::<f64>(rng)
}

/// A log-normal with this mean and coefficient of variation.
fn log_normal(mean: f64, cv: f64) -> LogNormal<f64> {
    let sigma2 = (1.0 + cv * cv).ln();
    let mu = mean.ln() - sigma2 / 2.0;
    LogNormal::new(mu, sigma2.sqrt()).unwrap_or_else(|_| LogNormal::new(mean.ln(), 0.0).expect("a point"))
}

/// The scenarios `switchboard simulate` runs: a small and a large team, chat
/// with three seats each, log-normal and exponential handle times, patience
/// exponential, log-normal and endless, staffed for the load, short-staffed
/// and flat; each with the given seeds.
pub fn scenarios(seeds: &[u64]) -> Vec<Scenario> {
    let mut all = Vec::new();
    let lognormal = Handle::LogNormal { mean: 300.0, cv: 1.0 };
    let shapes = [
        ("small team, log-normal handle, exponential patience", 40.0, lognormal, Patience::Exponential { mean: 180.0 }, 4, 1),
        ("small team short-staffed", 40.0, lognormal, Patience::Exponential { mean: 180.0 }, 3, 1),
        ("small team, exponential handle, log-normal patience", 40.0, Handle::Exponential { mean: 300.0 }, Patience::LogNormal { mean: 180.0, cv: 1.0 }, 4, 1),
        ("small team, nobody gives up", 30.0, lognormal, Patience::Endless, 3, 1),
        ("large team, log-normal handle, exponential patience", 280.0, lognormal, Patience::Exponential { mean: 180.0 }, 24, 1),
        ("large team short-staffed", 280.0, lognormal, Patience::Exponential { mean: 180.0 }, 21, 1),
        ("chat, 3 seats each", 90.0, lognormal, Patience::Exponential { mean: 180.0 }, 3, 3),
    ];
    for (name, peak, handle, patience, team, seats_each) in shapes {
        for &seed in seeds {
            all.push(Scenario { name: name.into(), peak_per_hour: peak, handle, patience, team, seats_each, seed });
        }
    }
    all
}

/// A line of the printed table.
pub fn describe(label: &str, score: &Score) -> String {
    format!(
        "{label:<10} {:>6} served  coverage {:>5.1}%  width {:>4.2}  error {:>6.0} s  Asterisk {:>6.0} s  late abandons {:>4.1}%",
        score.served,
        score.coverage * 100.0,
        score.median_width,
        score.mean_error,
        score.asterisk_error,
        score.late_abandons * 100.0
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_is_the_same_for_the_same_seed() {
        let day = Scenario {
            name: "test".into(),
            peak_per_hour: 40.0,
            handle: Handle::LogNormal { mean: 300.0, cv: 1.0 },
            patience: Patience::Exponential { mean: 180.0 },
            team: 3,
            seats_each: 1,
            seed: 7,
        };
        let first = day.run();
        assert_eq!(first, day.run(), "reproducible");
        assert!(first.overall.served > 50, "{first:?}");
        assert!((0.0..=1.0).contains(&first.overall.coverage));
        assert_ne!(first, Scenario { seed: 8, ..day }.run(), "another seed, another day");
    }
}
