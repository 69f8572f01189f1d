-- params: as_of_date
-- AR aging as it stood at the end of `as_of_date`: approved revenue bills issued on
-- or before it, at their amount due less the interest charged after it, less the
-- allocations dated on or before it that were not voided by then; one row per bill
-- with a non-zero balance. A paid bill leaves AR on its `settled_on` date (its last
-- valid allocation, else Clio's paid date, else its last update: its allocations may
-- all be voided or missing); an overpayment's credit goes with it.
-- Bills are taken in their current state: Clio keeps no state history, so a bill
-- voided later is missing here.
with

approved_revenue_bills as (
    select * from intermediate.approved_revenue_bills
),

allocations as (
    select * from staging.allocations
),

interest_charges as (
    select * from staging.interest_charges
),

firm_today as (
    select * from intermediate.firm_today
),

as_of as (
    select
        cast(as_of_date as date) as as_of_date,
        firm_timezone,
        aging_basis,
    from firm_today
),

issued as (
    select approved_revenue_bills.*,
    from approved_revenue_bills
    cross join as_of
    where approved_revenue_bills.issued_at <= as_of.as_of_date
        and (
            approved_revenue_bills.settled_on is null
            or approved_revenue_bills.settled_on > as_of.as_of_date
        )
),

interest_after as (
    select
        interest_charges.bill_id,
        sum(interest_charges.total) as interest,
    from interest_charges
    cross join as_of
    where interest_charges.interest_charge_date > as_of.as_of_date
    group by interest_charges.bill_id
),

allocated_by_then as (
    select
        allocations.bill_id,
        sum(allocations.amount) as allocated,
    from allocations
    cross join as_of
    where allocations.allocation_date <= as_of.as_of_date
        and (
            allocations.voided_at is null
            or cast(timezone(as_of.firm_timezone, allocations.voided_at) as date)
                > as_of.as_of_date
        )
    group by allocations.bill_id
),

balances as (
    select
        issued.bill_id,
        issued.bill_number,
        issued.client_id,
        issued.client_name,
        issued.currency,
        issued.issued_at,
        issued.due_at,
        as_of.as_of_date,
        as_of.aging_basis,
        as_of.as_of_date - issued.due_at as days_past_due,
        as_of.as_of_date - case as_of.aging_basis
            when 'issue_date' then issued.issued_at
            else issued.due_at
        end as aging_days,
        issued.amount_due
            - coalesce(interest_after.interest, 0)
            - coalesce(allocated_by_then.allocated, 0) as balance,
    from issued
    cross join as_of
    left join interest_after
        on interest_after.bill_id = issued.bill_id
    left join allocated_by_then
        on allocated_by_then.bill_id = issued.bill_id
),

bucketed as (
    select
        *,
        case
            when aging_days is null or aging_days <= 0 then 'current'
            when aging_days <= 30 then '1-30'
            when aging_days <= 60 then '31-60'
            when aging_days <= 90 then '61-90'
            else '91+'
        end as aging_bucket,
    from balances
    where balance <> 0
),

final as (
    select
        *,
        case when aging_bucket = 'current' then balance else 0 end as current_amount,
        case when aging_bucket = '1-30' then balance else 0 end as days_1_30_amount,
        case when aging_bucket = '31-60' then balance else 0 end as days_31_60_amount,
        case when aging_bucket = '61-90' then balance else 0 end as days_61_90_amount,
        case when aging_bucket = '91+' then balance else 0 end as days_91_plus_amount,
    from bucketed
)

select * from final
