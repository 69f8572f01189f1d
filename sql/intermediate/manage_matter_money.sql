-- What each Manage matter billed, collected, wrote off and still owes, from approved
-- revenue bills (issued by the firm's today) and their valid allocations: billed is the
-- matter's share of each bill's amount due, outstanding its share of receivable balances.
with

approved_revenue_bills as (
    select * from intermediate.approved_revenue_bills
),

bill_matter_balances as (
    select * from intermediate.bill_matter_balances
),

valid_allocations as (
    select * from intermediate.valid_allocations
),

firm_today as (
    select * from intermediate.firm_today
),

issued as (
    select approved_revenue_bills.*
    from approved_revenue_bills
    cross join firm_today
    where approved_revenue_bills.issued_at <= firm_today.today
),

billed as (
    select
        bill_matter_balances.matter_id,
        issued.currency,
        sum(bill_matter_balances.amount_due) as billed,
        sum(case when issued.is_receivable then bill_matter_balances.balance else 0 end)
            as outstanding,
    from bill_matter_balances
    inner join issued
        on issued.bill_id = bill_matter_balances.bill_id
    where bill_matter_balances.matter_id is not null
    group by all
),

allocated as (
    select
        valid_allocations.matter_id,
        issued.currency,
        sum(valid_allocations.payment_amount) as collected,
        sum(valid_allocations.credit_note_amount) as written_off,
    from valid_allocations
    inner join issued
        on issued.bill_id = valid_allocations.bill_id
    cross join firm_today
    where valid_allocations.matter_id is not null
        and valid_allocations.allocation_date <= firm_today.today
    group by all
),

final as (
    select
        coalesce(billed.matter_id, allocated.matter_id) as matter_id,
        coalesce(billed.currency, allocated.currency) as currency,
        coalesce(billed.billed, 0) as billed,
        coalesce(allocated.collected, 0) as collected,
        coalesce(allocated.written_off, 0) as written_off,
        coalesce(billed.outstanding, 0) as outstanding,
    from billed
    full outer join allocated
        on allocated.matter_id = billed.matter_id
        and allocated.currency is not distinct from billed.currency
)

select * from final
