-- What each client owes, per currency, from its receivable bills.
with

-- the bills alone: no settled dates or allocation totals are needed here
approved_revenue_bills as (
    select * from intermediate.approved_bills
),

receivables as (
    select * from approved_revenue_bills
    where state = 'awaiting_payment'
),

valid_allocations as (
    select * from intermediate.valid_allocations
),

firm_today as (
    select * from intermediate.firm_today
),

last_payments as (
    select
        approved_revenue_bills.client_id,
        approved_revenue_bills.currency,
        max(valid_allocations.allocation_date) as last_payment_date,
    from valid_allocations
    inner join approved_revenue_bills
        on approved_revenue_bills.bill_id = valid_allocations.bill_id
    where valid_allocations.is_payment
    group by all
),

client_receivables as (
    select
        receivables.client_id,
        min(receivables.client_name) as client_name,
        receivables.currency,
        sum(receivables.balance) as total_outstanding,
        coalesce(
            sum(receivables.balance) filter (where receivables.due_at < firm_today.today),
            0
        ) as overdue_outstanding,
        min(receivables.due_at) as oldest_due_at,
        count(*) as open_bills,
    from receivables
    cross join firm_today
    group by receivables.client_id, receivables.currency
),

final as (
    select
        client_receivables.client_id,
        client_receivables.client_name,
        client_receivables.currency,
        client_receivables.total_outstanding,
        client_receivables.overdue_outstanding,
        client_receivables.oldest_due_at,
        last_payments.last_payment_date,
        client_receivables.open_bills,
    from client_receivables
    left join last_payments
        on last_payments.client_id = client_receivables.client_id
        and last_payments.currency is not distinct from client_receivables.currency
)

select * from final
