//! A hybrid logical clock: device wall time, made monotonic and pushed past
//! every clock seen in merged documents, so lifecycle events from different
//! devices sort the same way on every replica even when phone clocks disagree.

use std::cmp::Ordering;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Hlc {
    pub wall_ms: i64,
    pub counter: u32,
}

impl PartialOrd for Hlc {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Hlc {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.wall_ms, self.counter).cmp(&(other.wall_ms, other.counter))
    }
}

impl Hlc {
    /// The next timestamp for a local event at wall time `now_ms`.
    pub fn tick(&mut self, now_ms: i64) -> Hlc {
        if now_ms > self.wall_ms {
            self.wall_ms = now_ms;
            self.counter = 0;
        } else {
            self.counter = self.counter.saturating_add(1);
        }
        *self
    }

    /// Move past a timestamp seen from another replica.
    pub fn observe(&mut self, seen: Hlc) {
        if seen > *self {
            *self = seen;
        }
    }

    /// Sortable text form: `wall-counter-device`, zero padded.
    pub fn encode(&self, device: &str) -> String {
        format!(
            "{:015}-{:010}-{}",
            self.wall_ms.max(0),
            self.counter,
            device
        )
    }

    /// Parse the clock part of [`Hlc::encode`]; `None` for anything malformed.
    pub fn decode(s: &str) -> Option<Hlc> {
        let mut it = s.splitn(3, '-');
        let wall_ms = it.next()?.parse().ok()?;
        let counter = it.next()?.parse().ok()?;
        it.next()?;
        Some(Hlc { wall_ms, counter })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_stay_monotonic_when_the_wall_clock_goes_back() {
        let mut h = Hlc::default();
        let a = h.tick(1_000);
        let b = h.tick(900);
        let c = h.tick(900);
        assert!(a < b && b < c);
        assert!(a.encode("d") < b.encode("d") && b.encode("d") < c.encode("d"));
    }

    #[test]
    fn observing_a_later_clock_moves_past_it() {
        let mut h = Hlc::default();
        h.tick(1_000);
        h.observe(Hlc {
            wall_ms: 5_000,
            counter: 3,
        });
        let next = h.tick(1_100);
        assert_eq!(
            next,
            Hlc {
                wall_ms: 5_000,
                counter: 4
            }
        );
        assert_eq!(Hlc::decode(&next.encode("dev-1")), Some(next));
        assert_eq!(Hlc::decode("garbage"), None);
    }
}
