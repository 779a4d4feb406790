//! Public holidays of the countries nudge knows, computed by rule for any year.
//!
//! Rules rather than tables, so a daemon left running for years never runs out of holidays.
//! Only days that are off for office workers nationwide are listed: a follow-up that lands on a
//! regional holiday is a small matter, one that lands on Christmas Eve in Oslo is not.
//! Current law is applied to every year, except for two recent changes that a look back over
//! past touches can still meet: Denmark's Great Prayer Day (until 2023) and the US Juneteenth
//! (from 2021).

use chrono::{Datelike, Duration, NaiveDate, Weekday};

use crate::config::Country;

/// One public holiday: the day and its English name (for `nudge check` and logs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Holiday {
    pub date: NaiveDate,
    pub name: &'static str,
}

/// The holidays of `country` whose date falls in `year`, sorted by date.
///
/// Two holidays on one day (Whit Monday on 17 May in Norway) are both listed. Where a holiday is
/// moved off a weekend (GB substitute days, US observed days) both the actual and the moved date
/// are listed; a US observed day may fall in the year before (New Year's Day on a Saturday is
/// observed on 31 December). Years outside chrono's range give an empty list.
pub fn holidays(country: Country, year: i32) -> Vec<Holiday> {
    let mut days = Days {
        year,
        list: Vec::with_capacity(16),
    };
    match country {
        Country::NO => norway(&mut days),
        Country::SE => sweden(&mut days),
        Country::DK => denmark(&mut days),
        Country::FI => finland(&mut days),
        Country::DE => germany(&mut days),
        Country::GB => britain(&mut days),
        Country::US => united_states(&mut days),
    }
    let mut list = days.list;
    list.retain(|h| h.date.year() == year);
    list.sort_by_key(|h| h.date);
    list
}

/// True when `date` is a public holiday of `country`.
///
/// Each country's year is worked out once per thread and kept: a pass asks about the same
/// few years for every business day of thousands of conversations.
pub fn is_holiday(country: Country, date: NaiveDate) -> bool {
    type Years = std::collections::HashMap<(Country, i32), Box<[NaiveDate]>>;
    thread_local! {
        static YEARS: std::cell::RefCell<Years> = std::cell::RefCell::default();
    }
    /// More years than any pass asks about; past it the memory starts again.
    const KEPT: usize = 256;
    YEARS.with(|years| {
        let mut years = years.borrow_mut();
        if years.len() >= KEPT {
            years.clear();
        }
        years
            .entry((country, date.year()))
            .or_insert_with(|| {
                holidays(country, date.year())
                    .into_iter()
                    .map(|h| h.date)
                    .collect()
            })
            .contains(&date)
    })
}

/// Easter Sunday of `year` in the Gregorian calendar (the anonymous Gregorian algorithm, also
/// known as Meeus/Jones/Butcher). The movable feasts of every country here hang off it.
///
/// # Panics
/// When `year` is outside the range of [`NaiveDate`] (about ±262,000 years).
pub fn easter_sunday(year: i32) -> NaiveDate {
    easter(year).expect("year within the range of NaiveDate")
}

fn easter(year: i32) -> Option<NaiveDate> {
    // Euclidean division keeps every intermediate non-negative, so the result is always a
    // date between 22 March and 25 April, even for proleptic negative years.
    let y = year;
    let a = y.rem_euclid(19);
    let b = y.div_euclid(100);
    let c = y.rem_euclid(100);
    let d = b.div_euclid(4);
    let e = b.rem_euclid(4);
    let f = (b + 8).div_euclid(25);
    let g = (b - f + 1).div_euclid(3);
    let h = (19 * a + b - d - g + 15).rem_euclid(30);
    let i = c.div_euclid(4);
    let k = c.rem_euclid(4);
    let l = (32 + 2 * e + 2 * i - h - k).rem_euclid(7);
    let m = (a + 11 * h + 22 * l).div_euclid(451);
    let n = h + l - 7 * m + 114;
    let month = n.div_euclid(31) as u32;
    let day = (n.rem_euclid(31) + 1) as u32;
    NaiveDate::from_ymd_opt(y, month, day)
}

/// The list being built for one year; dates that cannot exist (out of chrono's range) are
/// dropped rather than panicking.
struct Days {
    year: i32,
    list: Vec<Holiday>,
}

impl Days {
    fn add(&mut self, date: Option<NaiveDate>, name: &'static str) {
        if let Some(date) = date {
            self.list.push(Holiday { date, name });
        }
    }

    fn date(&self, month: u32, day: u32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(self.year, month, day)
    }

    fn fixed(&mut self, month: u32, day: u32, name: &'static str) {
        self.add(self.date(month, day), name);
    }

    /// A feast `offset` days from Easter Sunday.
    fn easter(&mut self, offset: i64, name: &'static str) {
        let date = easter(self.year).and_then(|e| e.checked_add_signed(Duration::days(offset)));
        self.add(date, name);
    }

    /// The `n`th `weekday` of `month` (1-based).
    fn nth(&mut self, n: u8, weekday: Weekday, month: u32, name: &'static str) {
        let date = NaiveDate::from_weekday_of_month_opt(self.year, month, weekday, n);
        self.add(date, name);
    }

    /// The last `weekday` of `month`.
    fn last(&mut self, weekday: Weekday, month: u32, name: &'static str) {
        let date = NaiveDate::from_weekday_of_month_opt(self.year, month, weekday, 5)
            .or_else(|| NaiveDate::from_weekday_of_month_opt(self.year, month, weekday, 4));
        self.add(date, name);
    }

    /// The `weekday` in the seven days starting `month`/`day` (Midsummer, All Saints' Day).
    fn weekday_from(&mut self, weekday: Weekday, month: u32, day: u32, name: &'static str) {
        let date = self.date(month, day).and_then(|start| {
            let ahead =
                (7 + weekday.num_days_from_monday() - start.weekday().num_days_from_monday()) % 7;
            start.checked_add_signed(Duration::days(i64::from(ahead)))
        });
        self.add(date, name);
    }

    /// A fixed US federal holiday and, when it falls on a weekend, its observed day
    /// (Saturday → the Friday before, Sunday → the Monday after).
    fn fixed_observed(&mut self, month: u32, day: u32, name: &'static str, observed: &'static str) {
        self.fixed(month, day, name);
        self.add(self.date(month, day).and_then(us_observed), observed);
    }
}

/// The weekday a US federal holiday on `date` is observed on, when that differs from `date`.
fn us_observed(date: NaiveDate) -> Option<NaiveDate> {
    match date.weekday() {
        Weekday::Sat => date.pred_opt(),
        Weekday::Sun => date.succ_opt(),
        _ => None,
    }
}

fn norway(d: &mut Days) {
    d.fixed(1, 1, "New Year's Day");
    d.easter(-3, "Maundy Thursday");
    d.easter(-2, "Good Friday");
    d.easter(0, "Easter Sunday");
    d.easter(1, "Easter Monday");
    d.fixed(5, 1, "Labour Day");
    d.fixed(5, 17, "Constitution Day");
    d.easter(39, "Ascension Day");
    d.easter(49, "Whit Sunday");
    d.easter(50, "Whit Monday");
    d.fixed(12, 25, "Christmas Day");
    d.fixed(12, 26, "Second Day of Christmas");
}

/// Sweden. Maundy Thursday is a working day; the eves (Midsummer, Christmas, New Year) are not
/// official holidays but offices are closed, so they count.
fn sweden(d: &mut Days) {
    d.fixed(1, 1, "New Year's Day");
    d.fixed(1, 6, "Epiphany");
    d.easter(-2, "Good Friday");
    d.easter(0, "Easter Sunday");
    d.easter(1, "Easter Monday");
    d.fixed(5, 1, "May Day");
    d.easter(39, "Ascension Day");
    d.easter(49, "Whit Sunday");
    d.fixed(6, 6, "National Day");
    d.weekday_from(Weekday::Fri, 6, 19, "Midsummer Eve");
    d.weekday_from(Weekday::Sat, 6, 20, "Midsummer Day");
    d.weekday_from(Weekday::Sat, 10, 31, "All Saints' Day");
    d.fixed(12, 24, "Christmas Eve");
    d.fixed(12, 25, "Christmas Day");
    d.fixed(12, 26, "Second Day of Christmas");
    d.fixed(12, 31, "New Year's Eve");
}

/// Denmark. Great Prayer Day was abolished from 2024; Constitution Day and the eves are
/// customary days off.
fn denmark(d: &mut Days) {
    d.fixed(1, 1, "New Year's Day");
    d.easter(-3, "Maundy Thursday");
    d.easter(-2, "Good Friday");
    d.easter(0, "Easter Sunday");
    d.easter(1, "Easter Monday");
    if d.year < 2024 {
        d.easter(26, "Great Prayer Day");
    }
    d.easter(39, "Ascension Day");
    d.easter(49, "Whit Sunday");
    d.easter(50, "Whit Monday");
    d.fixed(6, 5, "Constitution Day");
    d.fixed(12, 24, "Christmas Eve");
    d.fixed(12, 25, "Christmas Day");
    d.fixed(12, 26, "Second Day of Christmas");
    d.fixed(12, 31, "New Year's Eve");
}

fn finland(d: &mut Days) {
    d.fixed(1, 1, "New Year's Day");
    d.fixed(1, 6, "Epiphany");
    d.easter(-2, "Good Friday");
    d.easter(0, "Easter Sunday");
    d.easter(1, "Easter Monday");
    d.fixed(5, 1, "May Day");
    d.easter(39, "Ascension Day");
    d.easter(49, "Whit Sunday");
    d.weekday_from(Weekday::Fri, 6, 19, "Midsummer Eve");
    d.weekday_from(Weekday::Sat, 6, 20, "Midsummer Day");
    d.weekday_from(Weekday::Sat, 10, 31, "All Saints' Day");
    d.fixed(12, 6, "Independence Day");
    d.fixed(12, 24, "Christmas Eve");
    d.fixed(12, 25, "Christmas Day");
    d.fixed(12, 26, "Second Day of Christmas");
}

/// Germany: the nationwide holidays only; the states add more.
fn germany(d: &mut Days) {
    d.fixed(1, 1, "New Year's Day");
    d.easter(-2, "Good Friday");
    d.easter(1, "Easter Monday");
    d.fixed(5, 1, "Labour Day");
    d.easter(39, "Ascension Day");
    d.easter(50, "Whit Monday");
    d.fixed(10, 3, "German Unity Day");
    d.fixed(12, 25, "Christmas Day");
    d.fixed(12, 26, "Second Day of Christmas");
}

/// England and Wales bank holidays. One-off changes by proclamation (a moved early May bank
/// holiday, a coronation) cannot be computed and are left to `extra_holidays`.
fn britain(d: &mut Days) {
    d.fixed(1, 1, "New Year's Day");
    match d.date(1, 1).map(|date| date.weekday()) {
        Some(Weekday::Sat) => d.fixed(1, 3, "New Year's Day (substitute day)"),
        Some(Weekday::Sun) => d.fixed(1, 2, "New Year's Day (substitute day)"),
        _ => {}
    }
    d.easter(-2, "Good Friday");
    d.easter(1, "Easter Monday");
    d.nth(1, Weekday::Mon, 5, "Early May Bank Holiday");
    d.last(Weekday::Mon, 5, "Spring Bank Holiday");
    d.last(Weekday::Mon, 8, "Summer Bank Holiday");
    d.fixed(12, 25, "Christmas Day");
    d.fixed(12, 26, "Boxing Day");
    match d.date(12, 25).map(|date| date.weekday()) {
        // Boxing Day on Saturday.
        Some(Weekday::Fri) => d.fixed(12, 28, "Boxing Day (substitute day)"),
        // Both on the weekend: Monday and Tuesday.
        Some(Weekday::Sat) => {
            d.fixed(12, 27, "Christmas Day (substitute day)");
            d.fixed(12, 28, "Boxing Day (substitute day)");
        }
        // Boxing Day takes Monday, so Christmas moves to Tuesday.
        Some(Weekday::Sun) => d.fixed(12, 27, "Christmas Day (substitute day)"),
        _ => {}
    }
}

/// US federal holidays, with observed days for the fixed ones.
fn united_states(d: &mut Days) {
    d.fixed_observed(1, 1, "New Year's Day", "New Year's Day (observed)");
    d.nth(3, Weekday::Mon, 1, "Martin Luther King Jr. Day");
    d.nth(3, Weekday::Mon, 2, "Presidents' Day");
    d.last(Weekday::Mon, 5, "Memorial Day");
    if d.year >= 2021 {
        d.fixed_observed(6, 19, "Juneteenth", "Juneteenth (observed)");
    }
    d.fixed_observed(7, 4, "Independence Day", "Independence Day (observed)");
    d.nth(1, Weekday::Mon, 9, "Labor Day");
    d.nth(2, Weekday::Mon, 10, "Columbus Day");
    d.fixed_observed(11, 11, "Veterans Day", "Veterans Day (observed)");
    d.nth(4, Weekday::Thu, 11, "Thanksgiving Day");
    d.fixed_observed(12, 25, "Christmas Day", "Christmas Day (observed)");
    // Next year's New Year's Day on a Saturday is observed on this year's 31 December.
    let next_new_year = d
        .year
        .checked_add(1)
        .and_then(|next| NaiveDate::from_ymd_opt(next, 1, 1));
    if next_new_year.map(|date| date.weekday()) == Some(Weekday::Sat) {
        d.fixed(12, 31, "New Year's Day (observed)");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Country::*;

    fn date(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("a test date")
    }

    /// Every holiday of every country for three years, written out by hand (checked against
    /// published calendars), not derived from the rules under test.
    const TABLE: &[(Country, i32, &[&str])] = &[
        (
            NO,
            2026,
            &[
                "2026-01-01",
                "2026-04-02",
                "2026-04-03",
                "2026-04-05",
                "2026-04-06",
                "2026-05-01",
                "2026-05-14",
                "2026-05-17",
                "2026-05-24",
                "2026-05-25",
                "2026-12-25",
                "2026-12-26",
            ],
        ),
        (
            NO,
            2027,
            &[
                "2027-01-01",
                "2027-03-25",
                "2027-03-26",
                "2027-03-28",
                "2027-03-29",
                "2027-05-01",
                "2027-05-06",
                "2027-05-16",
                "2027-05-17",
                "2027-05-17",
                "2027-12-25",
                "2027-12-26",
            ],
        ),
        (
            NO,
            2028,
            &[
                "2028-01-01",
                "2028-04-13",
                "2028-04-14",
                "2028-04-16",
                "2028-04-17",
                "2028-05-01",
                "2028-05-17",
                "2028-05-25",
                "2028-06-04",
                "2028-06-05",
                "2028-12-25",
                "2028-12-26",
            ],
        ),
        (
            SE,
            2026,
            &[
                "2026-01-01",
                "2026-01-06",
                "2026-04-03",
                "2026-04-05",
                "2026-04-06",
                "2026-05-01",
                "2026-05-14",
                "2026-05-24",
                "2026-06-06",
                "2026-06-19",
                "2026-06-20",
                "2026-10-31",
                "2026-12-24",
                "2026-12-25",
                "2026-12-26",
                "2026-12-31",
            ],
        ),
        (
            SE,
            2027,
            &[
                "2027-01-01",
                "2027-01-06",
                "2027-03-26",
                "2027-03-28",
                "2027-03-29",
                "2027-05-01",
                "2027-05-06",
                "2027-05-16",
                "2027-06-06",
                "2027-06-25",
                "2027-06-26",
                "2027-11-06",
                "2027-12-24",
                "2027-12-25",
                "2027-12-26",
                "2027-12-31",
            ],
        ),
        (
            SE,
            2028,
            &[
                "2028-01-01",
                "2028-01-06",
                "2028-04-14",
                "2028-04-16",
                "2028-04-17",
                "2028-05-01",
                "2028-05-25",
                "2028-06-04",
                "2028-06-06",
                "2028-06-23",
                "2028-06-24",
                "2028-11-04",
                "2028-12-24",
                "2028-12-25",
                "2028-12-26",
                "2028-12-31",
            ],
        ),
        (
            DK,
            2026,
            &[
                "2026-01-01",
                "2026-04-02",
                "2026-04-03",
                "2026-04-05",
                "2026-04-06",
                "2026-05-14",
                "2026-05-24",
                "2026-05-25",
                "2026-06-05",
                "2026-12-24",
                "2026-12-25",
                "2026-12-26",
                "2026-12-31",
            ],
        ),
        (
            DK,
            2027,
            &[
                "2027-01-01",
                "2027-03-25",
                "2027-03-26",
                "2027-03-28",
                "2027-03-29",
                "2027-05-06",
                "2027-05-16",
                "2027-05-17",
                "2027-06-05",
                "2027-12-24",
                "2027-12-25",
                "2027-12-26",
                "2027-12-31",
            ],
        ),
        (
            DK,
            2028,
            &[
                "2028-01-01",
                "2028-04-13",
                "2028-04-14",
                "2028-04-16",
                "2028-04-17",
                "2028-05-25",
                "2028-06-04",
                "2028-06-05",
                "2028-06-05",
                "2028-12-24",
                "2028-12-25",
                "2028-12-26",
                "2028-12-31",
            ],
        ),
        (
            FI,
            2026,
            &[
                "2026-01-01",
                "2026-01-06",
                "2026-04-03",
                "2026-04-05",
                "2026-04-06",
                "2026-05-01",
                "2026-05-14",
                "2026-05-24",
                "2026-06-19",
                "2026-06-20",
                "2026-10-31",
                "2026-12-06",
                "2026-12-24",
                "2026-12-25",
                "2026-12-26",
            ],
        ),
        (
            FI,
            2027,
            &[
                "2027-01-01",
                "2027-01-06",
                "2027-03-26",
                "2027-03-28",
                "2027-03-29",
                "2027-05-01",
                "2027-05-06",
                "2027-05-16",
                "2027-06-25",
                "2027-06-26",
                "2027-11-06",
                "2027-12-06",
                "2027-12-24",
                "2027-12-25",
                "2027-12-26",
            ],
        ),
        (
            FI,
            2028,
            &[
                "2028-01-01",
                "2028-01-06",
                "2028-04-14",
                "2028-04-16",
                "2028-04-17",
                "2028-05-01",
                "2028-05-25",
                "2028-06-04",
                "2028-06-23",
                "2028-06-24",
                "2028-11-04",
                "2028-12-06",
                "2028-12-24",
                "2028-12-25",
                "2028-12-26",
            ],
        ),
        (
            DE,
            2026,
            &[
                "2026-01-01",
                "2026-04-03",
                "2026-04-06",
                "2026-05-01",
                "2026-05-14",
                "2026-05-25",
                "2026-10-03",
                "2026-12-25",
                "2026-12-26",
            ],
        ),
        (
            DE,
            2027,
            &[
                "2027-01-01",
                "2027-03-26",
                "2027-03-29",
                "2027-05-01",
                "2027-05-06",
                "2027-05-17",
                "2027-10-03",
                "2027-12-25",
                "2027-12-26",
            ],
        ),
        (
            DE,
            2028,
            &[
                "2028-01-01",
                "2028-04-14",
                "2028-04-17",
                "2028-05-01",
                "2028-05-25",
                "2028-06-05",
                "2028-10-03",
                "2028-12-25",
                "2028-12-26",
            ],
        ),
        (
            GB,
            2026,
            &[
                "2026-01-01",
                "2026-04-03",
                "2026-04-06",
                "2026-05-04",
                "2026-05-25",
                "2026-08-31",
                "2026-12-25",
                "2026-12-26",
                "2026-12-28",
            ],
        ),
        (
            GB,
            2027,
            &[
                "2027-01-01",
                "2027-03-26",
                "2027-03-29",
                "2027-05-03",
                "2027-05-31",
                "2027-08-30",
                "2027-12-25",
                "2027-12-26",
                "2027-12-27",
                "2027-12-28",
            ],
        ),
        (
            GB,
            2028,
            &[
                "2028-01-01",
                "2028-01-03",
                "2028-04-14",
                "2028-04-17",
                "2028-05-01",
                "2028-05-29",
                "2028-08-28",
                "2028-12-25",
                "2028-12-26",
            ],
        ),
        (
            US,
            2026,
            &[
                "2026-01-01",
                "2026-01-19",
                "2026-02-16",
                "2026-05-25",
                "2026-06-19",
                "2026-07-03",
                "2026-07-04",
                "2026-09-07",
                "2026-10-12",
                "2026-11-11",
                "2026-11-26",
                "2026-12-25",
            ],
        ),
        (
            US,
            2027,
            &[
                "2027-01-01",
                "2027-01-18",
                "2027-02-15",
                "2027-05-31",
                "2027-06-18",
                "2027-06-19",
                "2027-07-04",
                "2027-07-05",
                "2027-09-06",
                "2027-10-11",
                "2027-11-11",
                "2027-11-25",
                "2027-12-24",
                "2027-12-25",
                "2027-12-31",
            ],
        ),
        (
            US,
            2028,
            &[
                "2028-01-01",
                "2028-01-17",
                "2028-02-21",
                "2028-05-29",
                "2028-06-19",
                "2028-07-04",
                "2028-09-04",
                "2028-10-09",
                "2028-11-10",
                "2028-11-11",
                "2028-11-23",
                "2028-12-25",
            ],
        ),
    ];

    #[test]
    fn every_holiday_of_every_country_2026_to_2028() {
        for &(country, year, expected) in TABLE {
            let got: Vec<NaiveDate> = holidays(country, year).iter().map(|h| h.date).collect();
            let want: Vec<NaiveDate> = expected.iter().map(|d| date(d)).collect();
            assert_eq!(got, want, "{country:?} {year}");
        }
        // Every country and year is in the table.
        assert_eq!(TABLE.len(), 7 * 3);
    }

    #[test]
    fn every_listed_date_is_a_holiday_and_an_ordinary_day_is_not() {
        for &(country, _, expected) in TABLE {
            for day in expected {
                assert!(is_holiday(country, date(day)), "{country:?} {day}");
            }
        }
        for country in [NO, DE, GB, FI] {
            assert!(!is_holiday(country, date("2026-12-30")), "{country:?}");
        }
    }

    #[test]
    fn easter_sunday_matches_known_dates() {
        for (year, expected) in [
            (2026, "2026-04-05"),
            (2027, "2027-03-28"),
            (2028, "2028-04-16"),
            (2024, "2024-03-31"),
            (2025, "2025-04-20"),
            (2019, "2019-04-21"),
            (2000, "2000-04-23"),
            (1961, "1961-04-02"),
            // The earliest and latest possible dates.
            (1818, "1818-03-22"),
            (2285, "2285-03-22"),
            (1943, "1943-04-25"),
            (2038, "2038-04-25"),
        ] {
            assert_eq!(easter_sunday(year), date(expected), "{year}");
        }
    }

    #[test]
    fn easter_is_a_sunday_between_22_march_and_25_april() {
        for year in 1583..=4099 {
            let easter = easter_sunday(year);
            assert_eq!(easter.weekday(), Weekday::Sun, "{year}");
            assert!(easter >= date(&format!("{year:04}-03-22")), "{year}");
            assert!(easter <= date(&format!("{year:04}-04-25")), "{year}");
        }
    }

    #[test]
    fn maundy_thursday_is_off_in_norway_and_denmark_but_not_sweden() {
        let maundy = date("2026-04-02");
        assert!(is_holiday(NO, maundy));
        assert!(is_holiday(DK, maundy));
        assert!(!is_holiday(SE, maundy));
        assert!(!is_holiday(FI, maundy));
        assert!(!is_holiday(DE, maundy));
    }

    #[test]
    fn great_prayer_day_is_gone_from_2024() {
        let names = |year| -> Vec<Holiday> {
            holidays(DK, year)
                .into_iter()
                .filter(|h| h.name == "Great Prayer Day")
                .collect()
        };
        assert_eq!(names(2023).len(), 1);
        assert_eq!(names(2023)[0].date, date("2023-05-05"));
        assert!(is_holiday(DK, date("2023-05-05")));
        assert!(names(2024).is_empty());
        assert!(!is_holiday(DK, date("2024-04-26")));
        // Easter 2026 + 26 days would have been Friday 1 May.
        assert!(!is_holiday(DK, date("2026-05-01")));
    }

    #[test]
    fn christmas_substitutes_in_britain() {
        let named = |year| -> Vec<(NaiveDate, &'static str)> {
            holidays(GB, year)
                .into_iter()
                .filter(|h| h.date.month() == 12)
                .map(|h| (h.date, h.name))
                .collect()
        };
        // 25 Dec 2027 is a Saturday: Monday and Tuesday are the substitutes.
        assert_eq!(
            named(2027),
            vec![
                (date("2027-12-25"), "Christmas Day"),
                (date("2027-12-26"), "Boxing Day"),
                (date("2027-12-27"), "Christmas Day (substitute day)"),
                (date("2027-12-28"), "Boxing Day (substitute day)"),
            ]
        );
        // 25 Dec 2022 is a Sunday: Boxing Day keeps Monday, Christmas moves to Tuesday.
        assert_eq!(
            named(2022),
            vec![
                (date("2022-12-25"), "Christmas Day"),
                (date("2022-12-26"), "Boxing Day"),
                (date("2022-12-27"), "Christmas Day (substitute day)"),
            ]
        );
        // 25 Dec 2020 is a Friday: Boxing Day on Saturday moves to Monday 28.
        assert_eq!(
            named(2020),
            vec![
                (date("2020-12-25"), "Christmas Day"),
                (date("2020-12-26"), "Boxing Day"),
                (date("2020-12-28"), "Boxing Day (substitute day)"),
            ]
        );
        // A Christmas on a weekday has no substitute.
        assert_eq!(named(2025).len(), 2);
    }

    #[test]
    fn new_year_substitutes_in_britain() {
        // 1 Jan 2022 is a Saturday, 1 Jan 2023 a Sunday.
        assert!(is_holiday(GB, date("2022-01-03")));
        assert!(!is_holiday(GB, date("2022-01-04")));
        assert!(is_holiday(GB, date("2023-01-02")));
        assert!(!is_holiday(GB, date("2026-01-02")));
    }

    #[test]
    fn observed_federal_holidays_in_the_us() {
        // 4 Jul 2027 is a Sunday: observed Monday 5 July, the actual date kept too.
        let july: Vec<Holiday> = holidays(US, 2027)
            .into_iter()
            .filter(|h| h.date.month() == 7)
            .collect();
        assert_eq!(
            july,
            vec![
                Holiday {
                    date: date("2027-07-04"),
                    name: "Independence Day"
                },
                Holiday {
                    date: date("2027-07-05"),
                    name: "Independence Day (observed)"
                },
            ]
        );
        // 4 Jul 2026 is a Saturday: observed Friday 3 July.
        assert!(is_holiday(US, date("2026-07-03")));
        // 1 Jan 2022 is a Saturday: observed on Friday 31 Dec 2021, listed under 2021.
        assert!(is_holiday(US, date("2021-12-31")));
        assert!(holidays(US, 2021)
            .iter()
            .any(|h| h.date == date("2021-12-31") && h.name == "New Year's Day (observed)"));
        assert!(holidays(US, 2022).iter().all(|h| h.date.year() == 2022));
        // Juneteenth is a federal holiday from 2021 (observed Friday 18 June that year).
        assert!(!is_holiday(US, date("2020-06-19")));
        assert!(is_holiday(US, date("2021-06-18")));
    }

    #[test]
    fn nth_and_last_weekday_rules_hold_for_many_years() {
        for year in 1990..=2100 {
            let us = holidays(US, year);
            let find = |name: &str| {
                us.iter()
                    .find(|h| h.name == name)
                    .map(|h| h.date)
                    .unwrap_or_else(|| panic!("{name} {year}"))
            };
            let thanksgiving = find("Thanksgiving Day");
            assert_eq!(thanksgiving.weekday(), Weekday::Thu);
            assert!((22..=28).contains(&thanksgiving.day()), "{year}");
            let memorial = find("Memorial Day");
            assert_eq!(memorial.weekday(), Weekday::Mon);
            assert!((25..=31).contains(&memorial.day()), "{year}");
            let mlk = find("Martin Luther King Jr. Day");
            assert!((15..=21).contains(&mlk.day()) && mlk.weekday() == Weekday::Mon);

            for country in [SE, FI] {
                let list = holidays(country, year);
                let eve = list
                    .iter()
                    .find(|h| h.name == "Midsummer Eve")
                    .unwrap()
                    .date;
                let day = list
                    .iter()
                    .find(|h| h.name == "Midsummer Day")
                    .unwrap()
                    .date;
                let saints = list
                    .iter()
                    .find(|h| h.name == "All Saints' Day")
                    .unwrap()
                    .date;
                assert_eq!(eve.weekday(), Weekday::Fri);
                assert!(eve.month() == 6 && (19..=25).contains(&eve.day()));
                assert_eq!(day, eve.succ_opt().unwrap());
                assert_eq!(saints.weekday(), Weekday::Sat);
                assert!(
                    (saints.month() == 10 && saints.day() == 31)
                        || (saints.month() == 11 && saints.day() <= 6)
                );
            }
        }
    }

    #[test]
    fn lists_are_sorted_and_keep_two_holidays_on_one_day() {
        for country in [NO, SE, DK, FI, DE, GB, US] {
            for year in 2000..=2050 {
                let list = holidays(country, year);
                assert!(list.windows(2).all(|w| w[0].date <= w[1].date));
                assert!(list.iter().all(|h| h.date.year() == year));
            }
        }
        // Whit Monday 2027 is Norway's Constitution Day.
        let may17: Vec<&str> = holidays(NO, 2027)
            .into_iter()
            .filter(|h| h.date == date("2027-05-17"))
            .map(|h| h.name)
            .collect();
        assert_eq!(may17, vec!["Constitution Day", "Whit Monday"]);
    }

    #[test]
    fn extreme_years_do_not_panic() {
        for country in [NO, SE, DK, FI, DE, GB, US] {
            for year in [
                NaiveDate::MIN.year(),
                NaiveDate::MAX.year(),
                i32::MIN,
                i32::MAX,
                0,
                -1,
            ] {
                let _ = holidays(country, year);
            }
            assert!(holidays(country, i32::MAX).is_empty());
            let _ = is_holiday(country, NaiveDate::MAX);
            let _ = is_holiday(country, NaiveDate::MIN);
        }
    }
}
