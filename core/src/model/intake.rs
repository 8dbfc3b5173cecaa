//! What a work order holds from the start: the channel, the customer, the
//! product, the fault as the customer tells it, category and priority.

use autosurgeon::{Hydrate, Reconcile};
use serde::{Deserialize, Serialize};

/// How a request reached the service center.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Reconcile, Hydrate, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Phone,
    Email,
    OnlineChat,
    WalkIn,
    MailIn,
}

/// The complaint / request category the center reports on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Reconcile, Hydrate, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Category {
    ProductQuality,
    UsageOperation,
    InstallationCommissioning,
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Reconcile, Hydrate, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    Normal,
    Urgent,
}

/// Where the site is, for the arrival clock: urban sites get the base limit,
/// others add a recorded travel allowance.
#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SiteZone {
    Urban,
    OutsideUrban { travel_allowance_min: i64 },
}

#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Customer {
    pub name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub address: String,
    pub member: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Product {
    pub model: String,
    pub serial: String,
    /// Calendar date, `YYYY-MM-DD`.
    pub purchase_date: Option<String>,
    /// Invoice number or a reference to a photo of it.
    pub proof_of_purchase: Option<String>,
}

/// The fault as the customer describes it at intake.
#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Fault {
    pub symptoms: String,
    pub frequency: Option<String>,
    pub since: Option<String>,
    pub environment: Option<String>,
    pub already_tried: Option<String>,
}

/// Everything a work order holds from the start.
#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Intake {
    pub channel: Channel,
    pub customer: Customer,
    pub product: Product,
    pub fault: Fault,
    pub category: Category,
    pub priority: Priority,
    /// Resolution time promised to the customer. The API also takes it as
    /// RFC 3339 text with an offset.
    #[serde(default, with = "ms_or_rfc3339")]
    pub promised_by_ms: Option<i64>,
    pub site_zone: SiteZone,
}

/// A time given to the dispatcher API: epoch milliseconds, or RFC 3339
/// text with its offset (`2026-12-01T14:00:00+08:00`). Text without an
/// offset is refused: it would name no instant.
pub(crate) mod ms_or_rfc3339 {
    use serde::{Deserialize, Deserializer, Serializer};

    #[derive(Deserialize)]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    #[serde(untagged)]
    enum Given {
        Ms(i64),
        Text(String),
    }

    pub fn parse(text: &str) -> Result<i64, String> {
        chrono::DateTime::parse_from_rfc3339(text.trim())
            .map(|t| t.timestamp_millis())
            .map_err(|_| {
                format!(
                    "{text:?} is not an RFC 3339 time with an offset, like 2026-12-01T14:00:00+08:00"
                )
            })
    }

    pub fn serialize<S: Serializer>(v: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(ms) => s.serialize_some(ms),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        match Option::<Given>::deserialize(d)? {
            None => Ok(None),
            Some(Given::Ms(ms)) => Ok(Some(ms)),
            Some(Given::Text(t)) => parse(&t).map(Some).map_err(serde::de::Error::custom),
        }
    }
}
