-- Billing KPIs per month and currency, from the first month a bill was issued to the
-- firm's current month. Month-end figures of the current month are as of today.
-- Bills, allocations and interest are first summed into a few rows per currency and
-- month (issued bills by day, paid bills by settled month, allocations by month), and
-- every figure is read from those: money is DECIMAL, so sums of sums are exact, and the
-- million-row tables are read once each rather than once per figure (#12.4).
with

approved_revenue_bills as (
    select * from intermediate.approved_revenue_bills
),

-- the bills alone, to attach each allocation and interest charge to its bill
approved_bills as (
    select * from intermediate.approved_bills
),

valid_allocations as (
    select * from intermediate.valid_allocations
),

interest_charges as (
    select * from staging.interest_charges
),

firm_today as (
    select * from intermediate.firm_today
),

-- approved revenue bills issued by today, with the months the KPIs place them in
issued_bills as (
    select
        approved_bills.bill_id,
        approved_bills.currency,
        approved_bills.issued_at,
        approved_bills.amount_due,
        cast(date_trunc('month', approved_bills.issued_at) as date) as issued_month,
        case when approved_bills.due_at + 91 <= firm_today.today
            then cast(date_trunc('month', approved_bills.due_at + 91) as date)
        end as over_90_month,
    from approved_bills
    cross join firm_today
    where approved_bills.issued_at <= firm_today.today
),

-- issued bills by day and over-90 month: a few thousand rows, read many times
bill_groups as (
    select
        currency,
        issued_at,
        issued_month,
        over_90_month,
        sum(amount_due) as amount_due,
        count(*) as count_bills,
    from issued_bills
    group by all
),

-- paid bills, the only ones with a settled date: when they left AR and what was left
paid_bills as (
    select
        approved_revenue_bills.currency,
        approved_revenue_bills.issued_at,
        approved_revenue_bills.amount_due,
        approved_revenue_bills.issued_at <= firm_today.today as is_issued,
        case when approved_revenue_bills.settled_on <= firm_today.today
            then greatest(
                cast(date_trunc('month', approved_revenue_bills.settled_on) as date),
                cast(date_trunc('month', approved_revenue_bills.issued_at) as date)
            )
        end as settled_month,
        approved_revenue_bills.amount_due
            - coalesce(approved_revenue_bills.collected, 0)
            - coalesce(approved_revenue_bills.written_off, 0) as unallocated,
        case when approved_revenue_bills.due_at + 91 <= firm_today.today
            then cast(date_trunc('month', approved_revenue_bills.due_at + 91) as date)
        end as over_90_month,
        coalesce(approved_revenue_bills.paid_on, approved_revenue_bills.last_allocation_date) as paid_at,
        firm_today.today,
    from approved_revenue_bills
    cross join firm_today
    where approved_revenue_bills.state = 'paid'
),

-- A paid bill leaves AR when it is settled, taking what is left of it with it: an
-- overpayment's credit, or all of it when its allocations are voided or missing.
settled_groups as (
    select
        currency,
        settled_month,
        over_90_month,
        sum(unallocated) as unallocated,
    from paid_bills
    where is_issued and settled_month is not null
    group by all
),

-- reports.paid_bills' paid date and days to pay, by the month paid
paid_by_month as (
    select
        currency,
        cast(date_trunc('month', paid_at) as date) as month,
        count(*) as count_bills_paid,
        avg(paid_at - issued_at) as avg_days_to_pay,
        sum((paid_at - issued_at) * amount_due)
            / nullif(sum(amount_due), 0) as weighted_days_to_pay,
    from paid_bills
    where paid_at <= today
    group by all
),

-- valid allocations of issued bills made by today, by month and their bill's months
allocation_groups as (
    select
        issued_bills.currency,
        issued_bills.issued_month,
        issued_bills.over_90_month,
        cast(date_trunc('month', valid_allocations.allocation_date) as date) as allocation_month,
        sum(valid_allocations.payment_amount) as collected,
        sum(valid_allocations.credit_note_amount) as written_off,
        sum(valid_allocations.amount) as amount,
    from valid_allocations
    inner join issued_bills
        on issued_bills.bill_id = valid_allocations.bill_id
    cross join firm_today
    where valid_allocations.allocation_date <= firm_today.today
    group by all
),

-- a bill's interest by month charged; `is_charged`: charged by today; `is_in_amount_due`:
-- taken out of its amount due (a bill without one adds nothing in its issue month)
bill_interest as (
    select
        issued_bills.currency,
        issued_bills.issued_month,
        issued_bills.over_90_month,
        interest_charges.interest_charge_date <= firm_today.today as is_charged,
        issued_bills.amount_due is not null as is_in_amount_due,
        greatest(
            cast(date_trunc('month', interest_charges.interest_charge_date) as date),
            issued_bills.issued_month
        ) as charge_month,
        sum(interest_charges.total) as interest,
    from interest_charges
    inner join issued_bills
        on issued_bills.bill_id = interest_charges.bill_id
    cross join firm_today
    group by all
),

-- What a bill adds to AR: its amount due less its interest in its issue month, and
-- each interest charge in its own month (or the issue month, if dated before it).
bill_charges as (
    select currency, over_90_month, issued_month as charge_month, amount_due as amount,
    from bill_groups
    union all
    select currency, over_90_month, issued_month as charge_month, -interest as amount,
    from bill_interest
    where is_in_amount_due
    union all
    select currency, over_90_month, charge_month, interest as amount,
    from bill_interest
    where is_charged
),

months as (
    select
        bill_groups.currency,
        cast(unnest(generate_series(
            min(bill_groups.issued_month),
            cast(date_trunc('month', firm_today.today) as date),
            interval 1 month
        )) as date) as month,
        firm_today.today,
    from bill_groups
    cross join firm_today
    group by bill_groups.currency, firm_today.today
),

month_ends as (
    select
        currency,
        month,
        least(last_day(month), today) as month_end_at,
    from months
),

billed_by_month as (
    select
        currency,
        issued_month as month,
        sum(amount_due) as billed,
        cast(sum(count_bills) as bigint) as count_bills_issued,
    from bill_groups
    group by all
),

allocated_by_month as (
    select
        currency,
        allocation_month as month,
        sum(collected) as collected,
        sum(written_off) as written_off,
    from allocation_groups
    group by all
),

ar_movements as (
    select currency, charge_month as month, amount,
    from bill_charges
    union all
    select currency, greatest(allocation_month, issued_month) as month, -amount as amount,
    from allocation_groups
    union all
    select currency, settled_month as month, -unallocated as amount,
    from settled_groups
),

ar_over_90_movements as (
    select currency, greatest(charge_month, over_90_month) as month, amount,
    from bill_charges
    where over_90_month is not null
    union all
    select currency, greatest(allocation_month, over_90_month) as month, -amount as amount,
    from allocation_groups
    where over_90_month is not null
    union all
    select currency, greatest(settled_month, over_90_month) as month, -unallocated as amount,
    from settled_groups
    where over_90_month is not null
),

ar_change_by_month as (
    select currency, month, sum(amount) as ar_change,
    from ar_movements
    group by all
),

ar_over_90_change_by_month as (
    select currency, month, sum(amount) as ar_over_90_change,
    from ar_over_90_movements
    group by all
),

billed_by_day as (
    select currency, issued_at, sum(amount_due) as billed,
    from bill_groups
    group by all
),

billed_trailing_90_days as (
    select
        month_ends.currency,
        month_ends.month,
        sum(billed_by_day.billed) as billed_trailing_90_days,
    from month_ends
    inner join billed_by_day
        on billed_by_day.currency is not distinct from month_ends.currency
        and billed_by_day.issued_at between month_ends.month_end_at - 89 and month_ends.month_end_at
    group by all
),

joined as (
    select
        month_ends.currency,
        month_ends.month,
        month_ends.month_end_at,
        coalesce(billed_by_month.billed, 0) as billed,
        coalesce(allocated_by_month.collected, 0) as collected,
        coalesce(allocated_by_month.written_off, 0) as written_off,
        coalesce(billed_by_month.count_bills_issued, 0) as count_bills_issued,
        coalesce(paid_by_month.count_bills_paid, 0) as count_bills_paid,
        sum(coalesce(ar_change_by_month.ar_change, 0)) over (
            partition by month_ends.currency order by month_ends.month
        ) as ar_at_month_end,
        sum(coalesce(ar_over_90_change_by_month.ar_over_90_change, 0)) over (
            partition by month_ends.currency order by month_ends.month
        ) as ar_over_90_at_month_end,
        coalesce(billed_trailing_90_days.billed_trailing_90_days, 0) as billed_trailing_90_days,
        paid_by_month.avg_days_to_pay,
        paid_by_month.weighted_days_to_pay,
    from month_ends
    left join billed_by_month
        on billed_by_month.currency is not distinct from month_ends.currency
        and billed_by_month.month = month_ends.month
    left join allocated_by_month
        on allocated_by_month.currency is not distinct from month_ends.currency
        and allocated_by_month.month = month_ends.month
    left join ar_change_by_month
        on ar_change_by_month.currency is not distinct from month_ends.currency
        and ar_change_by_month.month = month_ends.month
    left join ar_over_90_change_by_month
        on ar_over_90_change_by_month.currency is not distinct from month_ends.currency
        and ar_over_90_change_by_month.month = month_ends.month
    left join billed_trailing_90_days
        on billed_trailing_90_days.currency is not distinct from month_ends.currency
        and billed_trailing_90_days.month = month_ends.month
    left join paid_by_month
        on paid_by_month.currency is not distinct from month_ends.currency
        and paid_by_month.month = month_ends.month
),

final as (
    select
        currency,
        month,
        month_end_at,
        billed,
        collected,
        written_off,
        cast(round(cast(collected / nullif(billed, 0) as decimal(38, 10)), 4) as double) as collection_rate,
        ar_at_month_end,
        ar_over_90_at_month_end,
        billed_trailing_90_days,
        cast(round(cast(ar_at_month_end / nullif(billed_trailing_90_days, 0) * 90 as decimal(38, 10)), 1) as double) as dso_days,
        cast(round(cast(avg_days_to_pay as decimal(38, 10)), 1) as double) as avg_days_to_pay,
        cast(round(cast(weighted_days_to_pay as decimal(38, 10)), 1) as double) as weighted_days_to_pay,
        count_bills_issued,
        count_bills_paid,
    from joined
)

select * from final
