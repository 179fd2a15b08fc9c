//! The estimated wait shown to a waiting customer (SPEC §5).
//!
//! expected = position × average handle time ÷ agents serving, where the
//! average handle time is that of the queue and channel over its recent
//! completed sessions. It is shown as a range from 0.75 to 1.25 times the
//! expectation, in whole minutes ("about 2–4 minutes"); as "less than a
//! minute" when even the top of the range is under a minute; and as "can't
//! estimate right now" when no agent is serving the queue.

/// When a queue and channel has no history yet.
pub const DEFAULT_HANDLE_SECONDS: f64 = 300.0;

/// The expected wait in seconds; `None` when no agent is serving.
pub fn expected_seconds(position: i64, agents_serving: i64, average_handle_seconds: f64) -> Option<f64> {
    (agents_serving > 0).then(|| position.max(1) as f64 * average_handle_seconds / agents_serving as f64)
}

pub fn estimate(position: i64, agents_serving: i64, average_handle_seconds: f64) -> String {
    let Some(expected) = expected_seconds(position, agents_serving, average_handle_seconds) else {
        return "can't estimate right now".to_owned();
    };
    let (low, high) = (expected * 0.75, expected * 1.25);
    if high < 60.0 {
        return "less than a minute".to_owned();
    }
    let low_minutes = ((low / 60.0).floor() as i64).max(1);
    let high_minutes = ((high / 60.0).ceil() as i64).max(low_minutes + 1);
    format!("about {low_minutes}–{high_minutes} minutes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nobody_serving_cannot_be_estimated() {
        assert_eq!(estimate(3, 0, 120.0), "can't estimate right now");
    }

    #[test]
    fn a_short_wait_is_less_than_a_minute() {
        // 1 × 40 s ÷ 1 = 40 s: 30–50 s.
        assert_eq!(estimate(1, 1, 40.0), "less than a minute");
        // 2 × 60 s ÷ 4 = 30 s.
        assert_eq!(estimate(2, 4, 60.0), "less than a minute");
    }

    #[test]
    fn longer_waits_are_a_range_of_minutes() {
        // 3 × 180 s ÷ 1 = 540 s: 405–675 s, 6–12 minutes.
        assert_eq!(estimate(3, 1, 180.0), "about 6–12 minutes");
        // 1 × 300 s ÷ 2 = 150 s: 112–188 s, 1–4 minutes.
        assert_eq!(estimate(1, 2, 300.0), "about 1–4 minutes");
        // 1 × 60 s ÷ 1: 45–75 s, 1–2 minutes.
        assert_eq!(estimate(1, 1, 60.0), "about 1–2 minutes");
    }

    #[test]
    fn more_agents_shorten_the_wait() {
        assert_eq!(estimate(10, 5, 300.0), "about 7–13 minutes");
        assert_eq!(estimate(10, 10, 300.0), "about 3–7 minutes");
    }
}
