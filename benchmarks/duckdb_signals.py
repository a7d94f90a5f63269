"""The reference: the per-account usage, contract and activity signals of `csops health`,
computed by DuckDB SQL straight from the same CSV files, written as CSV.

    python benchmarks/duckdb_signals.py DATA_DIR AS_OF OUT_CSV
"""

import sys

import duckdb

CORE = "('dashboards', 'reports', 'integrations', 'automations', 'alerts')"
LOGINS = "('login', 'session_start')"

QUERY = """
WITH
u AS (
    SELECT account_id, CAST("timestamp" AS DATE) AS d, user_id, lower(feature) AS feature,
           business_unit
    FROM read_csv('{data}/usage.csv', header = true,
                  types = {{'account_id': 'VARCHAR', 'user_id': 'VARCHAR'}})
    WHERE CAST("timestamp" AS DATE) <= DATE '{as_of}'
),
c AS (
    SELECT * FROM read_csv('{data}/contracts.csv', header = true,
                           types = {{'account_id': 'VARCHAR', 'contract_id': 'VARCHAR'}})
),
act AS (
    SELECT account_id, "date" AS d, lower(activity_type) AS activity_type
    FROM read_csv('{data}/activities.csv', header = true, types = {{'account_id': 'VARCHAR'}})
    WHERE "date" <= DATE '{as_of}'
),
usage_30 AS (
    SELECT account_id,
           count(DISTINCT user_id) AS active_users_30d,
           count(*) FILTER (WHERE feature IN {logins}) AS logins_30d,
           count(DISTINCT feature) FILTER (WHERE feature IN {core}) AS core_features_used_30d
    FROM u WHERE d >= DATE '{as_of}' - 29 GROUP BY account_id
),
first_usage AS (SELECT account_id, min(d) AS first_d FROM u GROUP BY account_id),
new_unit AS (
    SELECT account_id, bool_or(first_seen >= DATE '{as_of}' - 29) AS any_new
    FROM (SELECT account_id, business_unit, min(d) AS first_seen FROM u
          WHERE business_unit IS NOT NULL GROUP BY ALL)
    GROUP BY account_id
),
new_feature AS (
    SELECT account_id, bool_or(first_used >= DATE '{as_of}' - 29) AS new_feature_used
    FROM (SELECT account_id, feature, min(d) AS first_used FROM u WHERE feature IN {core}
          GROUP BY ALL)
    GROUP BY account_id
),
arr_now AS (
    SELECT account_id, sum(arr) AS arr, sum(licenses) AS licenses, min(end_date) AS renewal_date
    FROM c WHERE start_date <= DATE '{as_of}' AND DATE '{as_of}' < end_date GROUP BY account_id
),
arr_then AS (
    SELECT account_id, sum(arr) AS arr_12m_ago FROM c
    WHERE start_date <= DATE '{as_of}' - INTERVAL 1 YEAR
      AND DATE '{as_of}' - INTERVAL 1 YEAR < end_date
    GROUP BY account_id
),
onboarding AS (
    SELECT account_id, arg_min(coalesce(signed_date, start_date), start_date) AS onboarding_start
    FROM c GROUP BY account_id
),
first_value AS (
    SELECT u.account_id, min(u.d) AS first_value_date
    FROM u JOIN onboarding o ON u.account_id = o.account_id
    WHERE u.feature IN {core} AND u.d >= o.onboarding_start GROUP BY u.account_id
),
touches AS (
    SELECT account_id,
           count(*) FILTER (WHERE activity_type IN ('meeting', 'qbr')
                            AND d >= DATE '{as_of}' - 89) AS meetings_90d,
           DATE '{as_of}' - max(d) AS days_since_last_touch
    FROM act GROUP BY account_id
)
SELECT a.account_id, a.account_name, a.segment, a.csm_owner, a.champion_status,
       coalesce(n.arr, 0) AS arr, n.licenses, n.renewal_date,
       n.renewal_date - DATE '{as_of}' AS days_to_renewal,
       coalesce(t.arr_12m_ago, 0) AS arr_12m_ago,
       CASE WHEN t.arr_12m_ago > 0 THEN coalesce(n.arr, 0) / t.arr_12m_ago - 1 END
           AS arr_change_12m,
       coalesce(u30.active_users_30d, 0) AS active_users_30d,
       coalesce(u30.active_users_30d, 0) / nullif(n.licenses, 0) AS license_utilization,
       coalesce(u30.logins_30d, 0) AS logins_30d,
       coalesce(u30.core_features_used_30d, 0) AS core_features_used_30d,
       coalesce(u30.core_features_used_30d, 0) / 5.0 AS core_feature_adoption,
       coalesce(nu.any_new AND fu.first_d < DATE '{as_of}' - 29, false) AS new_business_unit,
       coalesce(nf.new_feature_used, false) AS new_feature_used,
       o.onboarding_start, fv.first_value_date,
       coalesce(tc.meetings_90d, 0) AS meetings_90d, tc.days_since_last_touch
FROM read_csv('{data}/accounts.csv', header = true, types = {{'account_id': 'VARCHAR'}}) a
LEFT JOIN arr_now n USING (account_id)
LEFT JOIN arr_then t USING (account_id)
LEFT JOIN usage_30 u30 USING (account_id)
LEFT JOIN first_usage fu USING (account_id)
LEFT JOIN new_unit nu USING (account_id)
LEFT JOIN new_feature nf USING (account_id)
LEFT JOIN onboarding o USING (account_id)
LEFT JOIN first_value fv USING (account_id)
LEFT JOIN touches tc USING (account_id)
ORDER BY a.account_id
"""


def main() -> None:
    data, as_of, out = sys.argv[1:4]
    query = QUERY.format(data=data, as_of=as_of, core=CORE, logins=LOGINS)
    duckdb.connect().execute(f"COPY ({query}) TO '{out}' (HEADER, DELIMITER ',')")


if __name__ == "__main__":
    main()
