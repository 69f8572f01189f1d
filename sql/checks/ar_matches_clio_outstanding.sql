-- requires: clio.outstanding_client_balances
-- AR per client and currency equals Clio's own `outstanding_client_balances` (within 0.01).
with

outstanding_balances as (
    select * from reports.outstanding_balances
),

clio_balances as (
    select * from staging.outstanding_client_balances
),

clio_totals as (
    select
        client_id,
        currency,
        sum(total_outstanding_balance) as clio_total_outstanding,
    from clio_balances
    group by all
),

compared as (
    select
        coalesce(outstanding_balances.client_id, clio_totals.client_id) as client_id,
        outstanding_balances.client_name,
        coalesce(outstanding_balances.currency, clio_totals.currency) as currency,
        coalesce(outstanding_balances.total_outstanding, 0) as total_outstanding,
        coalesce(clio_totals.clio_total_outstanding, 0) as clio_total_outstanding,
    from outstanding_balances
    full outer join clio_totals
        on clio_totals.client_id = outstanding_balances.client_id
        and clio_totals.currency is not distinct from outstanding_balances.currency
),

final as (
    select * from compared
    where abs(total_outstanding - clio_total_outstanding) > 0.01
)

select * from final
