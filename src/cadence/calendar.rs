//! The seller's business-day calendar: which local dates count, and the instant a step is due.
//!
//! Delays are counted in the seller's own days (their zone, workdays, holidays and time away),
//! and a due draft appears at a local wall-clock time, so daylight-saving changes never move
//! or skip it.

use chrono::{
    DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc,
    Weekday,
};
use chrono_tz::Tz;

use crate::cadence::holidays;
use crate::config::{Away, Config, Country};

/// How many days any search walks at most (about 13.7 years). A calendar with no business day
/// at all, or a decade away, must not hang the daemon: past this, the last date looked at is
/// returned.
pub const SEARCH_LIMIT_DAYS: u32 = 5000;

/// Which local dates are business days for the seller, and where their days start.
#[derive(Debug, Clone)]
pub struct Calendar {
    /// Dates and due times are read in this zone, not the server's.
    zone: Tz,
    /// The weekdays the seller works (Monday–Friday by default).
    workdays: Vec<Weekday>,
    /// Countries whose public holidays are days off.
    countries: Vec<Country>,
    /// Days off the rules cannot know (a company day, a bridge day).
    extra_days_off: Vec<NaiveDate>,
    /// The seller's own time away, both ends included.
    away: Vec<Away>,
}

impl Calendar {
    pub fn new(
        zone: Tz,
        workdays: Vec<Weekday>,
        countries: Vec<Country>,
        extra_days_off: Vec<NaiveDate>,
        away: Vec<Away>,
    ) -> Calendar {
        Calendar {
            zone,
            workdays,
            countries,
            extra_days_off,
            away,
        }
    }

    /// The calendar the configuration describes (`account.timezone` and `[cadence]`).
    pub fn from_config(config: &Config) -> Calendar {
        let cadence = &config.cadence;
        Calendar::new(
            config.account.timezone,
            cadence.workdays.clone(),
            cadence.holidays.clone(),
            cadence.extra_holidays.clone(),
            cadence.away.clone(),
        )
    }

    pub fn zone(&self) -> Tz {
        self.zone
    }

    /// A workday that is no configured country's holiday, no extra day off and not inside an
    /// away period.
    pub fn is_business_day(&self, date: NaiveDate) -> bool {
        self.workdays.contains(&date.weekday())
            && !self.extra_days_off.contains(&date)
            && !self
                .away
                .iter()
                .any(|period| period.from <= date && date <= period.to)
            && !self
                .countries
                .iter()
                .any(|&country| holidays::is_holiday(country, date))
    }

    /// The date `days` business days after `from` (`from` itself never counts); with `days`
    /// 0, `from` when it is a business day, else the next one. Gives up after
    /// [`SEARCH_LIMIT_DAYS`] and returns the last date looked at.
    pub fn add_business_days(&self, from: NaiveDate, days: u32) -> NaiveDate {
        if days == 0 {
            return self.first_business_day_on_or_after(from);
        }
        let mut date = from;
        let mut remaining = days;
        for _ in 0..SEARCH_LIMIT_DAYS {
            let Some(next) = date.succ_opt() else {
                return date;
            };
            date = next;
            if self.is_business_day(date) {
                remaining -= 1;
                if remaining == 0 {
                    break;
                }
            }
        }
        date
    }

    /// The first business day after `date`.
    pub fn next_business_day_after(&self, date: NaiveDate) -> NaiveDate {
        self.add_business_days(date, 1)
    }

    /// `date` when it is a business day, else the next one. Gives up after
    /// [`SEARCH_LIMIT_DAYS`] and returns the last date looked at.
    pub fn first_business_day_on_or_after(&self, date: NaiveDate) -> NaiveDate {
        let mut date = date;
        for _ in 1..SEARCH_LIMIT_DAYS {
            if self.is_business_day(date) {
                break;
            }
            match date.succ_opt() {
                Some(next) => date = next,
                None => break,
            }
        }
        date
    }

    /// The seller's local date at the instant `at`.
    pub fn local_date(&self, at: DateTime<Utc>) -> NaiveDate {
        at.with_timezone(&self.zone).date_naive()
    }

    /// The instant the seller's clock shows `time` on `date`. A time skipped by a
    /// spring-forward change gives the first instant after the gap (02:30 → 03:00); a time
    /// shown twice by a fall-back change gives the earlier one, so a draft is never late.
    /// Never panics.
    pub fn at_local(&self, date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
        let local = date.and_time(time);
        match self.zone.from_local_datetime(&local) {
            LocalResult::Single(at) => at.with_timezone(&Utc),
            LocalResult::Ambiguous(first, second) => first.min(second).with_timezone(&Utc),
            LocalResult::None => self.end_of_gap(local),
        }
    }

    /// Every instant the seller's clock shows `time` on `date`, earliest first: one on most
    /// days, two when a fall-back change shows it twice, and for a time skipped by a
    /// spring-forward change the first instant after the gap (as [`Calendar::at_local`]).
    pub fn instants_of(&self, date: NaiveDate, time: NaiveTime) -> Vec<DateTime<Utc>> {
        let local = date.and_time(time);
        match self.zone.from_local_datetime(&local) {
            LocalResult::Single(at) => vec![at.with_timezone(&Utc)],
            LocalResult::Ambiguous(first, second) => {
                let (first, second) = (first.with_timezone(&Utc), second.with_timezone(&Utc));
                vec![first.min(second), first.max(second)]
            }
            LocalResult::None => vec![self.end_of_gap(local)],
        }
    }

    /// When a step is due: `business_days` business days after the seller's local date of
    /// `touch`, at `draft_time` on their clock.
    pub fn due_after(
        &self,
        touch: DateTime<Utc>,
        business_days: u32,
        draft_time: NaiveTime,
    ) -> DateTime<Utc> {
        let day = self.add_business_days(self.local_date(touch), business_days);
        self.at_local(day, draft_time)
    }

    /// The instant a gap containing the nonexistent `local` ends: the first instant whose
    /// local reading is later than `local`. Local readings only jump forward across a gap, and
    /// no UTC offset exceeds a day, so a binary search over ±26 hours finds it to the second
    /// (the Samoa of 2011 skipped a whole day and is still found).
    fn end_of_gap(&self, local: NaiveDateTime) -> DateTime<Utc> {
        let window = Duration::hours(26);
        let bounds = (
            local.checked_sub_signed(window),
            local.checked_add_signed(window),
        );
        let (Some(low), Some(high)) = bounds else {
            return Utc.from_utc_datetime(&local);
        };
        // Seconds since the epoch; `low` reads before `local`, `high` after it.
        let mut low = low.and_utc().timestamp();
        let mut high = high.and_utc().timestamp();
        let reads_after = |seconds: i64| {
            DateTime::from_timestamp(seconds, 0)
                .map(|at| at.with_timezone(&self.zone).naive_local() > local)
                .unwrap_or(true)
        };
        while high - low > 1 {
            let middle = low + (high - low) / 2;
            if reads_after(middle) {
                high = middle;
            } else {
                low = middle;
            }
        }
        DateTime::from_timestamp(high, 0).unwrap_or_else(|| Utc.from_utc_datetime(&local))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::{America::New_York, Europe::Oslo, Pacific::Apia, UTC};
    use Weekday::*;

    fn date(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("a test date")
    }

    fn time(text: &str) -> NaiveTime {
        NaiveTime::parse_from_str(text, "%H:%M").expect("a test time")
    }

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .expect("a test instant")
            .with_timezone(&Utc)
    }

    fn weekdays() -> Vec<Weekday> {
        vec![Mon, Tue, Wed, Thu, Fri]
    }

    fn calendar(zone: Tz, countries: &[Country]) -> Calendar {
        Calendar::new(zone, weekdays(), countries.to_vec(), Vec::new(), Vec::new())
    }

    fn away(from: &str, to: &str) -> Away {
        Away {
            from: date(from),
            to: date(to),
        }
    }

    #[test]
    fn easter_week_in_norway_skips_maundy_thursday_to_easter_monday() {
        let norway = calendar(Oslo, &[Country::NO]);
        let wednesday = date("2026-04-01");
        for day in [
            "2026-04-02",
            "2026-04-03",
            "2026-04-04",
            "2026-04-05",
            "2026-04-06",
        ] {
            assert!(!norway.is_business_day(date(day)), "{day}");
        }
        assert_eq!(norway.add_business_days(wednesday, 1), date("2026-04-07"));
        assert_eq!(norway.add_business_days(wednesday, 2), date("2026-04-08"));
        assert_eq!(norway.add_business_days(wednesday, 3), date("2026-04-09"));
        let touch = utc("2026-04-01T09:00:00Z");
        assert_eq!(
            norway.due_after(touch, 3, time("08:30")),
            utc("2026-04-09T06:30:00Z")
        );
    }

    #[test]
    fn easter_week_in_sweden_works_on_maundy_thursday() {
        let sweden = calendar(chrono_tz::Europe::Stockholm, &[Country::SE]);
        let wednesday = date("2026-04-01");
        assert!(sweden.is_business_day(date("2026-04-02")));
        assert_eq!(sweden.add_business_days(wednesday, 1), date("2026-04-02"));
        assert_eq!(sweden.add_business_days(wednesday, 2), date("2026-04-07"));
        assert_eq!(sweden.add_business_days(wednesday, 3), date("2026-04-08"));
    }

    #[test]
    fn holidays_of_all_configured_countries_count() {
        // Norway and the US together: 17 May (a Monday in 2027) and 5 July 2027 (US observed).
        let both = calendar(Oslo, &[Country::NO, Country::US]);
        assert!(!both.is_business_day(date("2027-05-17")));
        assert!(!both.is_business_day(date("2027-07-05")));
        let norway = calendar(Oslo, &[Country::NO]);
        assert!(norway.is_business_day(date("2027-07-05")));
        // No countries: only weekends are off.
        let none = calendar(Oslo, &[]);
        assert!(none.is_business_day(date("2026-12-25")));
    }

    #[test]
    fn weekends_are_skipped() {
        let plain = calendar(UTC, &[]);
        let friday = date("2026-03-06");
        let saturday = date("2026-03-07");
        let sunday = date("2026-03-08");
        let monday = date("2026-03-09");
        assert!(plain.is_business_day(friday));
        assert!(!plain.is_business_day(saturday));
        assert!(!plain.is_business_day(sunday));
        assert_eq!(plain.add_business_days(friday, 1), monday);
        assert_eq!(plain.add_business_days(saturday, 1), monday);
        assert_eq!(plain.add_business_days(sunday, 1), monday);
        assert_eq!(plain.add_business_days(friday, 5), date("2026-03-13"));
        assert_eq!(plain.add_business_days(friday, 6), date("2026-03-16"));
        assert_eq!(plain.next_business_day_after(friday), monday);
        assert_eq!(plain.next_business_day_after(saturday), monday);
    }

    #[test]
    fn zero_days_means_the_first_business_day_on_or_after() {
        let plain = calendar(UTC, &[]);
        let friday = date("2026-03-06");
        assert_eq!(plain.add_business_days(friday, 0), friday);
        assert_eq!(plain.first_business_day_on_or_after(friday), friday);
        assert_eq!(
            plain.add_business_days(date("2026-03-07"), 0),
            date("2026-03-09")
        );
        assert_eq!(
            plain.first_business_day_on_or_after(date("2026-03-08")),
            date("2026-03-09")
        );
    }

    #[test]
    fn other_workdays() {
        // A Sunday–Thursday week.
        let week = Calendar::new(
            UTC,
            vec![Sun, Mon, Tue, Wed, Thu],
            Vec::new(),
            Vec::new(),
            Vec::new(),
        );
        let thursday = date("2026-03-05");
        assert!(!week.is_business_day(date("2026-03-06")));
        assert_eq!(week.add_business_days(thursday, 1), date("2026-03-08"));
    }

    #[test]
    fn extra_days_off() {
        let extra = Calendar::new(
            UTC,
            weekdays(),
            Vec::new(),
            vec![date("2026-12-24"), date("2026-12-31")],
            Vec::new(),
        );
        let wednesday = date("2026-12-23");
        assert!(!extra.is_business_day(date("2026-12-24")));
        // No country: Christmas Day itself is a working day here.
        assert_eq!(extra.add_business_days(wednesday, 1), date("2026-12-25"));
        assert_eq!(extra.add_business_days(wednesday, 4), date("2026-12-30"));
        // 31 Dec is off by choice.
        assert_eq!(extra.add_business_days(wednesday, 5), date("2027-01-01"));

        let with_norway = Calendar::new(
            Oslo,
            weekdays(),
            vec![Country::NO],
            vec![date("2026-12-24"), date("2026-12-31")],
            Vec::new(),
        );
        assert_eq!(
            with_norway.add_business_days(wednesday, 1),
            date("2026-12-28")
        );
        assert_eq!(
            with_norway.add_business_days(wednesday, 3),
            date("2026-12-30")
        );
        // 31 Dec off by choice, 1 Jan a holiday, then the weekend.
        assert_eq!(
            with_norway.add_business_days(wednesday, 4),
            date("2027-01-04")
        );
    }

    #[test]
    fn away_periods_include_both_ends() {
        let seller = Calendar::new(
            Oslo,
            weekdays(),
            vec![Country::NO],
            Vec::new(),
            vec![away("2026-07-06", "2026-07-24")],
        );
        assert!(seller.is_business_day(date("2026-07-03")));
        assert!(!seller.is_business_day(date("2026-07-06")));
        assert!(!seller.is_business_day(date("2026-07-15")));
        assert!(!seller.is_business_day(date("2026-07-24")));
        assert!(seller.is_business_day(date("2026-07-27")));
        let thursday = date("2026-07-02");
        assert_eq!(seller.add_business_days(thursday, 1), date("2026-07-03"));
        assert_eq!(seller.add_business_days(thursday, 2), date("2026-07-27"));
        assert_eq!(
            seller.add_business_days(date("2026-07-03"), 3),
            date("2026-07-29")
        );
        // A touch made while away counts from the return.
        assert_eq!(
            seller.add_business_days(date("2026-07-15"), 1),
            date("2026-07-27")
        );
        assert_eq!(
            seller.first_business_day_on_or_after(date("2026-07-10")),
            date("2026-07-27")
        );
    }

    #[test]
    fn a_calendar_without_business_days_does_not_hang() {
        let never = Calendar::new(Oslo, Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let start = date("2026-01-01");
        let limit = start + Duration::days(i64::from(SEARCH_LIMIT_DAYS));
        assert_eq!(never.add_business_days(start, 3), limit);
        assert_eq!(
            never.first_business_day_on_or_after(start),
            limit - Duration::days(1)
        );
        assert_eq!(never.next_business_day_after(start), limit);

        // Thirty years away.
        let gone = Calendar::new(
            Oslo,
            weekdays(),
            Vec::new(),
            Vec::new(),
            vec![away("2026-01-01", "2055-12-31")],
        );
        assert_eq!(gone.add_business_days(start, 1), limit);
        // A huge step count stops at the limit too.
        let plain = calendar(UTC, &[]);
        assert_eq!(plain.add_business_days(start, u32::MAX), limit);
    }

    #[test]
    fn a_decade_away_is_still_found() {
        let seller = Calendar::new(
            UTC,
            weekdays(),
            Vec::new(),
            Vec::new(),
            vec![away("2026-01-01", "2035-12-31")],
        );
        // 1 Jan 2036 is a Tuesday.
        assert_eq!(
            seller.add_business_days(date("2026-01-01"), 1),
            date("2036-01-01")
        );
    }

    #[test]
    fn the_end_of_time_does_not_panic() {
        let plain = calendar(Oslo, &[Country::NO, Country::US]);
        assert_eq!(plain.add_business_days(NaiveDate::MAX, 3), NaiveDate::MAX);
        let _ = plain.first_business_day_on_or_after(NaiveDate::MAX);
        let _ = plain.at_local(NaiveDate::MAX, time("23:59"));
        let _ = plain.at_local(NaiveDate::MIN, time("00:00"));
    }

    #[test]
    fn local_dates_are_the_sellers() {
        let oslo = calendar(Oslo, &[]);
        let new_york = calendar(New_York, &[]);
        // 23:30 UTC on Tuesday is already Wednesday in Oslo, still Tuesday in New York.
        let late = utc("2026-04-07T23:30:00Z");
        assert_eq!(oslo.local_date(late), date("2026-04-08"));
        assert_eq!(new_york.local_date(late), date("2026-04-07"));
        // 02:00 UTC on Wednesday is still Tuesday evening in New York.
        assert_eq!(
            new_york.local_date(utc("2026-04-08T02:00:00Z")),
            date("2026-04-07")
        );
        // Winter: Oslo is UTC+1, so 23:30 UTC is after midnight there too.
        assert_eq!(
            oslo.local_date(utc("2026-01-13T23:30:00Z")),
            date("2026-01-14")
        );
        assert_eq!(oslo.zone(), Oslo);
    }

    #[test]
    fn due_after_counts_from_the_local_date_of_the_touch() {
        let oslo = calendar(Oslo, &[Country::NO]);
        let plain_utc = calendar(UTC, &[Country::NO]);
        // Tuesday 23:30 UTC is Wednesday 01:30 in Oslo: one business day later is Thursday.
        let touch = utc("2026-04-07T23:30:00Z");
        assert_eq!(
            oslo.due_after(touch, 1, time("08:30")),
            utc("2026-04-09T06:30:00Z")
        );
        assert_eq!(
            plain_utc.due_after(touch, 1, time("08:30")),
            utc("2026-04-08T08:30:00Z")
        );
        // Zero days: the same local day when it is a business day.
        assert_eq!(
            oslo.due_after(touch, 0, time("08:30")),
            utc("2026-04-08T06:30:00Z")
        );
    }

    #[test]
    fn draft_time_stays_local_across_the_spring_change_in_oslo() {
        // Clocks go 02:00 → 03:00 on Sunday 29 March 2026: UTC+1 before, UTC+2 after.
        let oslo = calendar(Oslo, &[Country::NO]);
        let thursday = utc("2026-03-26T10:00:00Z");
        assert_eq!(
            oslo.due_after(thursday, 1, time("08:30")),
            utc("2026-03-27T07:30:00Z")
        );
        assert_eq!(
            oslo.due_after(thursday, 2, time("08:30")),
            utc("2026-03-30T06:30:00Z")
        );
        // Read back, both are 08:30 on the seller's clock.
        for due in [
            oslo.due_after(thursday, 1, time("08:30")),
            oslo.due_after(thursday, 2, time("08:30")),
        ] {
            assert_eq!(due.with_timezone(&Oslo).time(), time("08:30"));
        }
    }

    #[test]
    fn draft_time_stays_local_across_the_autumn_change_in_oslo() {
        // Clocks go 03:00 → 02:00 on Sunday 25 October 2026.
        let oslo = calendar(Oslo, &[Country::NO]);
        let thursday = utc("2026-10-22T10:00:00Z");
        assert_eq!(
            oslo.due_after(thursday, 1, time("08:30")),
            utc("2026-10-23T06:30:00Z")
        );
        assert_eq!(
            oslo.due_after(thursday, 2, time("08:30")),
            utc("2026-10-26T07:30:00Z")
        );
    }

    #[test]
    fn draft_time_stays_local_across_the_changes_in_new_york() {
        let new_york = calendar(New_York, &[Country::US]);
        // 8 March 2026: 02:00 → 03:00, UTC−5 before, UTC−4 after.
        let thursday = utc("2026-03-05T15:00:00Z");
        assert_eq!(
            new_york.due_after(thursday, 1, time("08:30")),
            utc("2026-03-06T13:30:00Z")
        );
        assert_eq!(
            new_york.due_after(thursday, 2, time("08:30")),
            utc("2026-03-09T12:30:00Z")
        );
        // 1 November 2026: 02:00 → 01:00, UTC−4 before, UTC−5 after.
        let thursday = utc("2026-10-29T15:00:00Z");
        assert_eq!(
            new_york.due_after(thursday, 1, time("08:30")),
            utc("2026-10-30T12:30:00Z")
        );
        assert_eq!(
            new_york.due_after(thursday, 2, time("08:30")),
            utc("2026-11-02T13:30:00Z")
        );
    }

    #[test]
    fn a_time_skipped_by_spring_forward_gives_the_end_of_the_gap() {
        let oslo = calendar(Oslo, &[]);
        // 02:30 does not exist on 29 March 2026 in Oslo: 03:00 CEST is 01:00 UTC.
        assert_eq!(
            oslo.at_local(date("2026-03-29"), time("02:30")),
            utc("2026-03-29T01:00:00Z")
        );
        assert_eq!(
            oslo.at_local(date("2026-03-29"), time("02:00")),
            utc("2026-03-29T01:00:00Z")
        );
        // Just before and after the gap are ordinary.
        assert_eq!(
            oslo.at_local(date("2026-03-29"), time("01:59")),
            utc("2026-03-29T00:59:00Z")
        );
        assert_eq!(
            oslo.at_local(date("2026-03-29"), time("03:00")),
            utc("2026-03-29T01:00:00Z")
        );
        let new_york = calendar(New_York, &[]);
        // 02:30 does not exist on 8 March 2026 in New York: 03:00 EDT is 07:00 UTC.
        assert_eq!(
            new_york.at_local(date("2026-03-08"), time("02:30")),
            utc("2026-03-08T07:00:00Z")
        );
        // Seconds in the wall-clock time do not leak past the gap.
        let with_seconds = NaiveTime::from_hms_opt(2, 30, 17).unwrap();
        assert_eq!(
            new_york.at_local(date("2026-03-08"), with_seconds),
            utc("2026-03-08T07:00:00Z")
        );
    }

    #[test]
    fn a_time_shown_twice_by_fall_back_gives_the_earlier_instant() {
        let oslo = calendar(Oslo, &[]);
        // 02:30 on 25 October 2026 in Oslo: first in CEST (00:30 UTC), then in CET (01:30 UTC).
        assert_eq!(
            oslo.at_local(date("2026-10-25"), time("02:30")),
            utc("2026-10-25T00:30:00Z")
        );
        let new_york = calendar(New_York, &[]);
        // 01:30 on 1 November 2026 in New York: first in EDT (05:30 UTC), then EST (06:30 UTC).
        assert_eq!(
            new_york.at_local(date("2026-11-01"), time("01:30")),
            utc("2026-11-01T05:30:00Z")
        );
    }

    #[test]
    fn a_due_time_inside_the_gap_on_a_working_sunday() {
        let every_day = Calendar::new(
            Oslo,
            vec![Mon, Tue, Wed, Thu, Fri, Sat, Sun],
            Vec::new(),
            Vec::new(),
            Vec::new(),
        );
        let saturday = utc("2026-03-28T12:00:00Z");
        assert_eq!(
            every_day.due_after(saturday, 1, time("02:30")),
            utc("2026-03-29T01:00:00Z")
        );
    }

    #[test]
    fn a_skipped_day_resolves_to_the_next_midnight() {
        // Samoa skipped 30 December 2011, moving from UTC−10 to UTC+14.
        let samoa = calendar(Apia, &[]);
        assert_eq!(
            samoa.at_local(date("2011-12-30"), time("08:30")),
            utc("2011-12-30T10:00:00Z")
        );
        assert_eq!(
            samoa.local_date(utc("2011-12-30T10:00:00Z")),
            date("2011-12-31")
        );
    }

    #[test]
    fn from_config_reads_zone_workdays_and_days_off() {
        let text = r#"
[account]
email = "seller@example.com"
name = "Seller"
timezone = "Europe/Oslo"

[imap]
host = "imap.example.com"
username = "seller@example.com"
password_env = "NUDGE_TEST_PASSWORD"

[cadence]
holidays = ["NO", "SE"]
extra_holidays = ["2026-12-23"]
away = [{ from = "2026-07-06", to = "2026-07-24" }]
workdays = ["monday", "tuesday", "wednesday", "thursday"]
"#;
        let config = Config::parse(text, None, true).expect("a valid config");
        let seller = Calendar::from_config(&config);
        assert_eq!(seller.zone(), Oslo);
        // Fridays are off, holidays of both countries count, extras and time away too.
        assert!(!seller.is_business_day(date("2026-03-06")));
        assert!(!seller.is_business_day(date("2026-04-02")));
        // Swedish National Day, 6 June 2028, a Tuesday.
        assert!(!seller.is_business_day(date("2028-06-06")));
        assert!(!seller.is_business_day(date("2026-12-23")));
        assert!(!seller.is_business_day(date("2026-07-13")));
        assert!(seller.is_business_day(date("2026-07-27")));
        // Swedish Epiphany, 6 January 2026, a Tuesday.
        assert!(!seller.is_business_day(date("2026-01-06")));
        assert!(seller.is_business_day(date("2026-01-07")));
    }
}
