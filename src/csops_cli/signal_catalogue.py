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

# The export a signal comes from: without that export at all, a bucket holding the signal is
# not scored (the account's score is partial), rather than scored from its other signals alone.
SIGNAL_EXPORTS: dict[str, str] = {
    **dict.fromkeys((
        "active_users_30d", "license_utilization", "logins_30d", "logins_per_user_30d",
        "core_features_used_30d", "core_feature_adoption", "new_business_unit",
        "new_feature_used"), "usage_export"),
    "meetings_90d": "activities_export",
    "days_since_last_touch": "activities_export",
}

# Columns of the account signal table, with what each means. A health model may use any of them.
SIGNALS: dict[str, str] = {
    "account_id": "account identifier",
    "account_name": "account name",
    "segment": "CRM segment, else by ARR on as_of, else by the last ARR before it",
    "segment_t0": "CRM segment, else by ARR at t0 (12 months before as_of), else by the last "
                  "ARR before it: the segment of cohort metrics",
    "lifecycle_stage": "lifecycle stage from the CRM",
    "derived_stage": "lifecycle stage derived from data",
    "csm_owner": "CSM owner",
    "ae_owner": "AE owner",
    "champion_status": "champion status (active / none / left)",
    "arr": "ARR on as_of (sum over contracts active that day)",
    "paying": "ARR on as_of above 0: the accounts every command scores and lists",
    "arr_12m_ago": "ARR twelve months before as_of",
    "arr_change_12m": "ARR on as_of over ARR 12 months earlier, minus 1",
    "licenses": "licenses on as_of",
    "renewal_date": "earliest end_date after as_of among active contracts (paying accounts)",
    "days_to_renewal": "days from as_of to renewal_date",
    "onboarding_start": "signed_date (else start_date) of the first contract (earliest "
                        "start_date, then signed_date, then contract_id)",
    "days_since_onboarding_start": "days from onboarding_start to as_of",
    "first_value_date": "first value-feature event on or after onboarding start (empty when "
                        "not reached or unknown)",
    "first_value_reached": "first value reached (true / false; empty when unknown: no usage "
                           "features, or onboarding before the usage export's first day)",
    "onboarding_stalled": "paying, no first value, onboarding started onboarding_days ago or "
                          "more",
    "days_since_new_contract": "days since the latest new contract was signed (or started)",
    "active_users_30d": "distinct users in the last 30 days",
    "license_utilization": "active_users_30d / licenses",
    "logins_30d": "login events in the last 30 days",
    "logins_per_user_30d": "logins_30d / active_users_30d",
    "core_features_used_30d": "distinct core features used in the last 30 days",
    "core_feature_adoption": "core features used / core features configured",
    "new_business_unit": "a business unit first seen in the last 30 days (older account)",
    "new_feature_used": "a core feature first used in the last 30 days",
    "expansion_signal": "paying, and utilization above the expansion threshold or a new "
                        "business unit",
    "meetings_90d": "meetings and QBRs in the last 90 days",
    "days_since_last_touch": "days since the latest activity",
    "usage_export": "a usage export was read",
    "activities_export": "an activities export was read",
    "health_score": "health score, 0-100",
    "health_band": "green / yellow / red",
    "previous_health_score": "the latest stored score before as_of, else the score rebuilt "
                             "from the exports a week earlier",
    "health_change": "health score minus previous_health_score",
}
