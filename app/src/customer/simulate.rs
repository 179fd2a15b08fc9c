//! Simulated days of a queue, to see how often the wait a customer is shown
//! holds (`switchboard simulate`, and a part of `make bench`). Customers
//! arrive over a 12-hour day with a morning and an afternoon peak, are
//! served first come first served by a team staffed hour by hour, and may
//! give up. Each customer who has to wait is shown a range by
//! [`wait_model::estimate`] — the function the server's pages use — from
//! what the queue can know at that moment: the customers ahead on the
//! line, the seats, and the service and abandonment rates measured so far
//! (decayed over about an hour, as the server measures them). The range is
//! scored against the wait the customer had, or, for one who gave up, the
//! wait they would have had; beside it, Asterisk's announcement (an
//! average of answered waits, `(3 × old + new) / 4`) on the same days.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};

use rand::rngs::StdRng;
use rand::SeedableRng;
use rand_distr::{Distribution, Exp, LogNormal};

use super::wait_model::{self, Measured, FORGET_SECONDS};

/// How long a service takes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Handle {
    /// Log-normal with this mean and coefficient of variation.
    LogNormal {
        mean: f64,
        cv: f64,
    },
    Exponential {
        mean: f64,
    },
}

/// How long a customer waits before giving up.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Patience {
    Exponential {
        mean: f64,
    },
    LogNormal {
        mean: f64,
        cv: f64,
    },
    /// Nobody gives up.
    Endless,
}

/// How many representatives serve, hour by hour.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Staffing {
    /// Erlang C's rule for 80% answered within 20 s at the hour's arrival
    /// rate, less `short` representatives (at least one stays).
    ErlangC { short: u32 },
    /// The same team all day.
    Flat(u32),
}

/// One simulated day.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    pub name: String,
    /// Arrivals per hour at the peaks (half that between them), per queue.
    pub peak_per_hour: f64,
    pub handle: Handle,
    pub patience: Patience,
    pub staffing: Staffing,
    /// Customers each representative serves at once (3 on chat).
    pub seats_each: u32,
    /// The team also serves a second queue with the same arrivals, the
    /// customer who waited longest first: each queue counts the members at
    /// half their seats.
    pub shared: bool,
    pub seed: u64,
}

/// One customer who had to wait and was shown a range.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scored {
    /// Position when shown (1 = next).
    pub position: u32,
    /// The wait they had, or would have had had they stayed.
    pub wait: f64,
    pub low: f64,
    pub middle: f64,
    pub high: f64,
    /// Asterisk's announcement then.
    pub asterisk: f64,
    /// They gave up; `late`: after the top of their range had passed.
    pub gave_up: bool,
    pub late: bool,
}

/// How the shown ranges held, in a position bucket or overall.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Score {
    /// Customers scored.
    pub customers: usize,
    /// Share whose wait fell inside the range shown.
    pub coverage: f64,
    /// The median width of the ranges (top − bottom) ÷ the mean wait.
    pub median_width: f64,
    /// Mean |middle of the range − wait|, seconds.
    pub mean_error: f64,
    /// The same for Asterisk's announcement.
    pub asterisk_error: f64,
    /// Of those who gave up, the share who did so after the top of their
    /// range had passed.
    pub late_abandons: f64,
}

/// The position buckets scored apart, and the most the median relative
/// width may be in each.
pub const BUCKETS: [(&str, u32, u32, f64); 4] =
    [("1", 1, 1, 1.9), ("2-5", 2, 5, 1.6), ("6-20", 6, 20, 1.1), ("over 20", 21, u32::MAX, 0.65)];

/// Buckets with fewer customers are printed but not judged: their figures
/// move too much from seed to seed.
pub const BUCKET_SAMPLE: usize = 200;

impl Score {
    /// The score of some customers.
    pub fn of<'a>(customers: impl IntoIterator<Item = &'a Scored>) -> Score {
        let rows: Vec<&Scored> = customers.into_iter().collect();
        if rows.is_empty() {
            return Score::default();
        }
        let n = rows.len() as f64;
        let mean_wait = rows.iter().map(|r| r.wait).sum::<f64>() / n;
        let mut widths: Vec<f64> = rows.iter().map(|r| r.high - r.low).collect();
        widths.sort_by(f64::total_cmp);
        let gave_up = rows.iter().filter(|r| r.gave_up).count();
        Score {
            customers: rows.len(),
            coverage: rows.iter().filter(|r| r.low <= r.wait && r.wait <= r.high).count() as f64 / n,
            median_width: widths[widths.len() / 2] / mean_wait.max(1.0),
            mean_error: rows.iter().map(|r| (r.middle - r.wait).abs()).sum::<f64>() / n,
            asterisk_error: rows.iter().map(|r| (r.asterisk - r.wait).abs()).sum::<f64>() / n,
            late_abandons: if gave_up == 0 { 0.0 } else { rows.iter().filter(|r| r.late).count() as f64 / gave_up as f64 },
        }
    }

    /// The targets a scenario's overall score misses: coverage 80% ± 5
    /// points, error at most 0.75 × Asterisk's, at most 5% late abandons.
    pub fn misses(&self) -> Vec<&'static str> {
        let mut misses = Vec::new();
        if (self.coverage - 0.8).abs() > 0.05 {
            misses.push("coverage");
        }
        if self.mean_error > 0.75 * self.asterisk_error {
            misses.push("error");
        }
        if self.late_abandons > 0.05 {
            misses.push("late abandons");
        }
        misses
    }

    /// The targets a position bucket's score misses, judged only with at
    /// least [`BUCKET_SAMPLE`] customers in it: coverage 75–90%, median
    /// relative width at most `width`.
    pub fn bucket_misses(&self, width: f64) -> Vec<&'static str> {
        let mut misses = Vec::new();
        if self.customers >= BUCKET_SAMPLE && !(0.75..=0.9).contains(&self.coverage) {
            misses.push("coverage");
        }
        if self.customers >= BUCKET_SAMPLE && self.median_width > width {
            misses.push("width");
        }
        misses
    }

    /// Those of `customers` in a position bucket.
    pub fn bucket(customers: &[Scored], low: u32, high: u32) -> Score {
        Score::of(customers.iter().filter(|c| (low..=high).contains(&c.position)))
    }
}

/// A rate measured from events, forgetting as the server's measurements do:
/// events and exposure, both decayed.
#[derive(Debug, Clone, Copy, Default)]
struct Meter {
    events: f64,
    exposure: f64,
    at: f64,
}

impl Meter {
    fn add(&mut self, now: f64, events: f64, exposure: f64) {
        let keep = (-(now - self.at) / FORGET_SECONDS).exp();
        self.events = self.events * keep + events;
        self.exposure = self.exposure * keep + exposure;
        self.at = now;
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Happening {
    Arrival(usize),
    /// A service of this queue ends, after this many seconds.
    ServiceEnd(usize, f64),
    GiveUp(usize),
    /// The hour's staffing starts.
    Shift,
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
    queue: usize,
    arrived: f64,
    /// Position, and the range shown on arrival, and Asterisk's figure.
    shown: Option<(u32, wait_model::Range, f64)>,
    /// Gave up: still in the line, as the place they would have had.
    gone: bool,
    late: bool,
}

const DAY_SECONDS: f64 = 12.0 * 3600.0;

/// Seats Erlang C asks for: the fewest with which at least `target` of
/// customers arriving at `rate` a second, each served for `handle` seconds
/// on average, are answered within `within` seconds.
pub fn erlang_c_seats(rate: f64, handle: f64, within: f64, target: f64) -> u32 {
    let load = rate * handle;
    let mut seats = load.floor() as u32 + 1;
    loop {
        // Erlang B by its recursion, then C.
        let blocked = (1..=seats).fold(1.0, |b, k| load * b / (f64::from(k) + load * b));
        let n = f64::from(seats);
        let waits = n * blocked / (n - load * (1.0 - blocked));
        if 1.0 - waits * (-(n - load) * within / handle).exp() >= target {
            return seats;
        }
        seats += 1;
    }
}

impl Scenario {
    /// Arrivals per second to one queue at time `t`: peaks 2 h and 8 h
    /// into the day.
    fn arrival_rate(&self, t: f64) -> f64 {
        let hour = t / 3600.0;
        let peak = |at: f64| (-(hour - at).powi(2) / 2.0).exp();
        self.peak_per_hour / 3600.0 * (0.5 + 0.5 * peak(2.0).max(peak(8.0)))
    }

    fn mean_handle(&self) -> f64 {
        match self.handle {
            Handle::Exponential { mean } | Handle::LogNormal { mean, .. } => mean,
        }
    }

    /// Representatives in the hour starting at `t`.
    pub fn team_at(&self, t: f64) -> u32 {
        match self.staffing {
            Staffing::Flat(team) => team,
            Staffing::ErlangC { short } => {
                let queues = if self.shared { 2.0 } else { 1.0 };
                let rate = queues * self.arrival_rate(t + 1800.0);
                let seats = erlang_c_seats(rate, self.mean_handle(), 20.0, 0.8);
                seats.div_ceil(self.seats_each).saturating_sub(short).max(1)
            }
        }
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

    /// Runs the day: every customer who waited and was shown a range.
    pub fn run(&self) -> Vec<Scored> {
        let mut rng = StdRng::seed_from_u64(self.seed);
        let queues = if self.shared { 2 } else { 1 };
        let share = 1.0 / queues as f64;
        let mut seats = 0u32;
        let mut busy = vec![0u32; queues];
        let mut service = vec![Meter::default(); queues];
        // The latest handle times, where the measured rate starts from.
        let mut handles: Vec<VecDeque<f64>> = vec![VecDeque::new(); queues];
        let mut abandon = vec![Meter::default(); queues];
        let mut waiting = vec![0u32; queues];
        let mut asterisk = vec![0.0_f64; queues];
        let mut lines: Vec<VecDeque<usize>> = vec![VecDeque::new(); queues];
        let mut customers: Vec<Customer> = Vec::new();
        let mut scored = Vec::new();
        let mut due = BinaryHeap::new();
        let mut now = 0.0;
        // Arrivals by thinning a process at the peak rate.
        let peak_rate = self.peak_per_hour / 3600.0;
        let next_arrival =
            |from: f64, rng: &mut StdRng| from + Exp::new(peak_rate).map(|d| d.sample(rng)).unwrap_or(f64::INFINITY);
        for queue in 0..queues {
            due.push(Due { at: next_arrival(0.0, &mut rng), what: Happening::Arrival(queue) });
        }
        due.push(Due { at: 0.0, what: Happening::Shift });
        while let Some(Due { at, what }) = due.pop() {
            // Exposure since the last happening: busy seats, waiting customers.
            for queue in 0..queues {
                service[queue].add(at, 0.0, f64::from(busy[queue]) * (at - now));
                abandon[queue].add(at, 0.0, f64::from(waiting[queue]) * (at - now));
            }
            now = at;
            match what {
                Happening::Shift => {
                    if now < DAY_SECONDS {
                        seats = self.team_at(now) * self.seats_each;
                        due.push(Due { at: now + 3600.0, what: Happening::Shift });
                    }
                }
                Happening::Arrival(queue) => {
                    if now < DAY_SECONDS {
                        due.push(Due { at: next_arrival(now, &mut rng), what: Happening::Arrival(queue) });
                    }
                    if now >= DAY_SECONDS || rng_unit(&mut rng) > self.arrival_rate(now) / peak_rate {
                        continue;
                    }
                    let id = customers.len();
                    let mut customer = Customer { queue, arrived: now, shown: None, gone: false, late: false };
                    let measured = Measured {
                        services: service[queue].events,
                        busy_seconds: service[queue].exposure,
                        abandons: abandon[queue].events,
                        waited_seconds: abandon[queue].exposure,
                    };
                    let ahead = waiting[queue];
                    if ahead > 0 || busy.iter().sum::<u32>() >= seats {
                        // Shared members count for this queue alone while
                        // nobody waits in the other, as the server counts them.
                        let others_waiting = (0..queues).any(|other| other != queue && waiting[other] > 0);
                        let share = if others_waiting { share } else { 1.0 };
                        let range =
                            wait_model::estimate(ahead, f64::from(seats) * share, handles[queue].make_contiguous(), &measured);
                        customer.shown = range.map(|range| (ahead + 1, range, asterisk[queue]));
                        let patience = self.patience_time(&mut rng);
                        if patience.is_finite() {
                            due.push(Due { at: now + patience, what: Happening::GiveUp(id) });
                        }
                    }
                    customers.push(customer);
                    lines[queue].push_back(id);
                    waiting[queue] += 1;
                }
                Happening::ServiceEnd(queue, took) => {
                    service[queue].add(now, 1.0, 0.0);
                    handles[queue].push_back(took);
                    if handles[queue].len() > wait_model::RECENT_SERVICES {
                        handles[queue].pop_front();
                    }
                    busy[queue] -= 1;
                }
                Happening::GiveUp(id) => {
                    let customer = &mut customers[id];
                    if customer.gone || !lines[customer.queue].contains(&id) {
                        continue;
                    }
                    customer.gone = true;
                    waiting[customer.queue] -= 1;
                    abandon[customer.queue].add(now, 1.0, 0.0);
                    customer.late = customer.shown.is_some_and(|(_, range, _)| now - customer.arrived > range.high);
                }
            }
            // Free seats take the customers who waited longest; one who gave
            // up is scored with the wait they would have had on reaching the
            // front while a seat freed.
            while busy.iter().sum::<u32>() < seats {
                let front = (0..queues)
                    .filter_map(|queue| lines[queue].front().map(|&id| (queue, id)))
                    .min_by(|a, b| customers[a.1].arrived.total_cmp(&customers[b.1].arrived));
                let Some((queue, id)) = front else { break };
                lines[queue].pop_front();
                let customer = &customers[id];
                if let Some((position, range, announced)) = customer.shown {
                    scored.push(Scored {
                        position,
                        wait: now - customer.arrived,
                        low: range.low,
                        middle: range.middle,
                        high: range.high,
                        asterisk: announced,
                        gave_up: customer.gone,
                        late: customer.late,
                    });
                }
                if customer.gone {
                    continue;
                }
                let wait = now - customer.arrived;
                asterisk[queue] = if asterisk[queue] == 0.0 { wait } else { (3.0 * asterisk[queue] + wait) / 4.0 };
                waiting[queue] -= 1;
                busy[queue] += 1;
                let took = self.handle_time(&mut rng);
                due.push(Due { at: now + took, what: Happening::ServiceEnd(queue, took) });
            }
        }
        scored
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

/// The scenarios `switchboard simulate` runs, each with the given seeds: a
/// small team (1–5) and a large one (up to about 25), staffed by Erlang C,
/// short-staffed and flat; log-normal (mean 5 min, CV 1) and exponential
/// handle times; patience exponential, log-normal (mean 3 min) and endless;
/// a team shared with a second queue; chat with three seats each.
pub fn scenarios(seeds: &[u64]) -> Vec<Scenario> {
    let lognormal = Handle::LogNormal { mean: 300.0, cv: 1.0 };
    let exponential = Handle::Exponential { mean: 300.0 };
    let impatient = Patience::Exponential { mean: 180.0 };
    let lognormal_patience = Patience::LogNormal { mean: 180.0, cv: 1.0 };
    let erlang = Staffing::ErlangC { short: 0 };
    #[rustfmt::skip]
    let shapes = [
        ("small team, Erlang C", 36.0, lognormal, impatient, erlang, 1, false),
        ("small team, short-staffed", 36.0, lognormal, impatient, Staffing::ErlangC { short: 1 }, 1, false),
        ("small team, flat, exponential handle", 36.0, exponential, lognormal_patience, Staffing::Flat(4), 1, false),
        ("small team, nobody gives up", 36.0, lognormal, Patience::Endless, erlang, 1, false),
        ("large team, Erlang C", 240.0, lognormal, impatient, erlang, 1, false),
        ("large team, short-staffed", 240.0, lognormal, lognormal_patience, Staffing::ErlangC { short: 3 }, 1, false),
        ("large team, flat, exponential handle", 240.0, exponential, impatient, Staffing::Flat(22), 1, false),
        ("team shared with a second queue", 20.0, lognormal, impatient, erlang, 1, true),
        ("chat, 3 seats each", 90.0, lognormal, impatient, erlang, 3, false),
    ];
    let mut all = Vec::new();
    for (name, peak_per_hour, handle, patience, staffing, seats_each, shared) in shapes {
        for &seed in seeds {
            all.push(Scenario { name: name.into(), peak_per_hour, handle, patience, staffing, seats_each, shared, seed });
        }
    }
    all
}

/// A line of the printed table.
pub fn describe(label: &str, score: &Score) -> String {
    format!(
        "{label:<10} {:>6} customers  coverage {:>5.1}%  width {:>4.2}  error {:>5.0} s  Asterisk {:>5.0} s ({:>4.2}×)  late abandons {:>4.1}%",
        score.customers,
        score.coverage * 100.0,
        score.median_width,
        score.mean_error,
        score.asterisk_error,
        score.mean_error / score.asterisk_error.max(1e-9),
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
            peak_per_hour: 36.0,
            handle: Handle::LogNormal { mean: 300.0, cv: 1.0 },
            patience: Patience::Exponential { mean: 180.0 },
            staffing: Staffing::ErlangC { short: 1 },
            seats_each: 1,
            shared: false,
            seed: 7,
        };
        let first = day.run();
        assert_eq!(first, day.run(), "reproducible");
        assert!(first.len() > 50, "{} scored", first.len());
        assert!((0.0..=1.0).contains(&Score::of(&first).coverage));
        assert_ne!(first, Scenario { seed: 8, ..day }.run(), "another seed, another day");
    }

    #[test]
    fn erlang_c_staffs_as_the_tables_do() {
        // 2 erlangs (one call every 150 s of 300 s): 4 agents answer 80% in
        // 20 s (3 answer about 58%), the textbook case.
        assert_eq!(erlang_c_seats(1.0 / 150.0, 300.0, 20.0, 0.8), 4);
        assert_eq!(erlang_c_seats(0.0, 300.0, 20.0, 0.8), 1);
        // 20 erlangs need more than 20 seats and fewer than 30.
        let large = erlang_c_seats(20.0 / 300.0, 300.0, 20.0, 0.8);
        assert!((21..30).contains(&large), "{large}");
    }
}
