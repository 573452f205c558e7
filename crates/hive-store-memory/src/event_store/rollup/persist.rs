//! The rollups in an index checkpoint: whether they overflowed, the strings of their three
//! interners (in id order), then each hour (start in seconds since the epoch, u64 LE count
//! of cells, then its cells: event type, organization, user and count, u32 LE each).

use chrono::DateTime;

use super::interner::{Interner, ABSENT};
use super::{Cell, Rollups};
use crate::event_store::index_checkpoint::format::{Decoder, Encoder};

const HOUR_SECONDS: i64 = 3_600;

impl Rollups {
    /// Writes the rollups into a checkpoint.
    pub(crate) fn encode(&self, out: &mut Encoder) {
        out.put(u8::from(self.overflowed));
        for interner in [&self.event_types, &self.organizations, &self.users] {
            out.strings(interner.names());
        }
        out.put(self.hours.len() as u64);
        for (hour, cells) in &self.hours {
            out.put(hour.timestamp());
            out.put(cells.len() as u64);
            for cell in cells {
                out.slice(&[cell.event_type, cell.organization, cell.user, cell.count]);
            }
        }
    }

    /// Reads rollups written by [`Rollups::encode`]; why not, when they do not hold together.
    pub(crate) fn decode(input: &mut Decoder<'_>) -> Result<Self, String> {
        let overflowed = match input.get::<u8>()? {
            0 => false,
            1 => true,
            other => return Err(format!("rollups: overflow flag {other}")),
        };
        let mut rollups = Self {
            overflowed,
            event_types: interner(input)?,
            organizations: interner(input)?,
            users: interner(input)?,
            ..Self::default()
        };
        let hours = input.count()?;
        for _ in 0..hours {
            let start: i64 = input.get()?;
            let hour = DateTime::from_timestamp(start, 0)
                .filter(|_| start.rem_euclid(HOUR_SECONDS) == 0)
                .ok_or_else(|| format!("rollups: {start} is not the start of an hour"))?;
            let count = input.count()?;
            let mut cells: Vec<Cell> = Vec::with_capacity(count.min(1 << 16));
            for _ in 0..count {
                let cell = Cell {
                    event_type: input.get()?,
                    organization: input.get()?,
                    user: input.get()?,
                    count: input.get()?,
                };
                rollups.check(&cell, cells.last())?;
                cells.push(cell);
            }
            if rollups.hours.insert(hour, cells).is_some() {
                return Err(format!("rollups: hour {hour} twice"));
            }
        }
        Ok(rollups)
    }

    /// Why a decoded cell cannot follow `before` in its hour, if so.
    fn check(&self, cell: &Cell, before: Option<&Cell>) -> Result<(), String> {
        let known = |id: u32, interner: &Interner, optional: bool| {
            (optional && id == ABSENT) || (id != ABSENT && id as usize <= interner.len())
        };
        if !known(cell.event_type, &self.event_types, false)
            || !known(cell.organization, &self.organizations, true)
            || !known(cell.user, &self.users, true)
            || cell.count == 0
        {
            return Err(format!("rollups: a cell of unknown ids or no events: {cell:?}"));
        }
        if before.is_some_and(|before| before.key() >= cell.key()) {
            return Err("rollups: the cells of an hour are out of order".into());
        }
        Ok(())
    }
}

/// An interner of the strings [`Encoder::strings`] wrote, with the same ids.
fn interner(input: &mut Decoder<'_>) -> Result<Interner, String> {
    let mut interner = Interner::default();
    for (name, id) in input.strings()?.iter().zip(1u32..) {
        if interner.intern(name) != Some(id) {
            return Err(format!("rollups: `{name}` interned twice"));
        }
    }
    Ok(interner)
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::event_store::index_checkpoint::format::{open, seal};

    fn round_trip(rollups: &Rollups) -> Result<Rollups, String> {
        let mut out = Encoder::with_capacity(0);
        out.section(*b"ROLL");
        rollups.encode(&mut out);
        let mut file = out.finish();
        seal(&mut file);
        let mut section = open(&file)?.section(*b"ROLL")?;
        let decoded = Rollups::decode(&mut section)?;
        section.end()?;
        Ok(decoded)
    }

    #[test]
    fn rollups_round_trip() {
        let mut rollups = Rollups::default();
        let at = Utc.with_ymd_and_hms(2024, 3, 31, 10, 30, 0).unwrap();
        rollups.add(at, "Created", Some("org-1"), None);
        rollups.add(at, "Created", Some("org-1"), None);
        rollups.add(at, "Paid", None, Some("user-1"));
        rollups.add(at + chrono::Duration::hours(5), "Paid", Some("org-2"), Some("user-1"));
        let copy = round_trip(&rollups).unwrap();
        assert_eq!(copy.hours, rollups.hours);
        assert_eq!(copy.organizations.names().collect::<Vec<_>>(), ["org-1", "org-2"]);
        assert_eq!(copy.users.id("user-1"), Some(1));
        assert!(!copy.overflowed);
    }

    #[test]
    fn cells_of_unknown_ids_are_refused() {
        let mut rollups = Rollups::default();
        let at = Utc.with_ymd_and_hms(2024, 3, 31, 10, 0, 0).unwrap();
        rollups.add(at, "Created", None, None);
        rollups.hours.values_mut().for_each(|cells| cells[0].event_type = 2);
        assert!(round_trip(&rollups).unwrap_err().contains("unknown ids"));
    }
}
