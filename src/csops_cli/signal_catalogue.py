"""The signal catalogue: the columns of the account signal table, what each means, and the
health buckets with the score column each one fills.

Kept free of pandas so that configuration can be validated against it cheaply.
"""

from __future__ import annotations

# The health buckets, in the order they are shown, and the column of the bucket's score.
BUCKET_COLUMNS: dict[str, str] = {
    "product_usage": "usage_score",
    "relationship_depth": "relationship_score",
    "commercial_context": "commercial_score",
}

# Columns of the account signal table, with what each means. A health model may use any of them.
SIGNALS: dict[str, str] = {
    "account_id": "account identifier",
    "account_name": "account name",
    "segment": "CRM segment, else by ARR on as_of",
    "lifecycle_stage": "lifecycle stage from the CRM",
    "derived_stage": "lifecycle stage derived from data",
    "csm_owner": "CSM owner",
    "ae_owner": "AE owner",
    "champion_status": "champion status (active / none / left)",
    "arr": "ARR on as_of (sum over contracts active that day)",
    "arr_12m_ago": "ARR twelve months before as_of",
    "arr_change_12m": "ARR on as_of over ARR 12 months earlier, minus 1",
    "licenses": "licenses on as_of",
    "renewal_date": "earliest end_date after as_of among active contracts",
    "days_to_renewal": "days from as_of to renewal_date",
    "onboarding_start": "signed_date (else start_date) of the first contract",
    "first_value_date": "first value-feature event on or after onboarding start",
    "days_since_new_contract": "days since the latest new contract was signed (or started)",
    "active_users_30d": "distinct users in the last 30 days",
    "license_utilization": "active_users_30d / licenses",
    "logins_30d": "login events in the last 30 days",
    "logins_per_user_30d": "logins_30d / active_users_30d",
    "core_features_used_30d": "distinct core features used in the last 30 days",
    "core_feature_adoption": "core features used / core features configured",
    "new_business_unit": "a business unit first seen in the last 30 days (older account)",
    "new_feature_used": "a core feature first used in the last 30 days",
    "expansion_signal": "utilization above the expansion threshold or a new business unit",
    "meetings_90d": "meetings and QBRs in the last 90 days",
    "days_since_last_touch": "days since the latest activity",
    "health_score": "health score, 0-100",
    "health_band": "green / yellow / red",
    "health_change": "health score change since the previous snapshot",
}
