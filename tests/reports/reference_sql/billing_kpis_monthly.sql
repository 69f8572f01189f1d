-- The model as main had it at 05c8c41, before its rewrite for speed (#12.4): the plain
-- statement that tests/reports/test_rewrites_match_reference.py holds the shipped model to.
-- Billing KPIs per month and currency, from the first month a bill was issued to the
-- firm's current month. Month-end figures of the current month are as of today.
with

approved_revenue_bills as (
    select * from intermediate.approved_revenue_bills
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

issued_bills as (
    select
        approved_revenue_bills.bill_id,
        approved_revenue_bills.currency,
        approved_revenue_bills.issued_at,
        approved_revenue_bills.due_at,
        approved_revenue_bills.amount_due,
        cast(date_trunc('month', approved_revenue_bills.issued_at) as date) as issued_month,
        -- A paid bill leaves AR when it is settled, taking what is left of it with it:
        -- an overpayment's credit, or all of it when its allocations are voided or missing.
        case when approved_revenue_bills.settled_on <= firm_today.today
            then greatest(
                cast(date_trunc('month', approved_revenue_bills.settled_on) as date),
                cast(date_trunc('month', approved_revenue_bills.issued_at) as date)
            )
        end as settled_month,
        approved_revenue_bills.amount_due
            - coalesce(approved_revenue_bills.collected, 0)
            - coalesce(approved_revenue_bills.written_off, 0) as unallocated,
        -- The first day a bill is more than 90 days past due, when that day has come.
        case when approved_revenue_bills.due_at + 91 <= firm_today.today
            then cast(date_trunc('month', approved_revenue_bills.due_at + 91) as date)
        end as over_90_month,
    from approved_revenue_bills
    cross join firm_today
    where approved_revenue_bills.issued_at <= firm_today.today
),

bill_interest as (
    select bill_id, sum(total) as interest,
    from interest_charges
    group by bill_id
),

-- What a bill adds to AR: its amount due less its interest in its issue month, and
-- each interest charge in its own month (or the issue month, if dated before it).
bill_charges as (
    select
        issued_bills.bill_id,
        issued_bills.currency,
        issued_bills.issued_month,
        issued_bills.over_90_month,
        issued_bills.amount_due - coalesce(bill_interest.interest, 0) as amount,
        issued_bills.issued_month as charge_month,
    from issued_bills
    left join bill_interest
        on bill_interest.bill_id = issued_bills.bill_id
    union all
    select
        issued_bills.bill_id,
        issued_bills.currency,
        issued_bills.issued_month,
        issued_bills.over_90_month,
        interest_charges.total as amount,
        greatest(
            cast(date_trunc('month', interest_charges.interest_charge_date) as date),
            issued_bills.issued_month
        ) as charge_month,
    from interest_charges
    inner join issued_bills
        on issued_bills.bill_id = interest_charges.bill_id
    cross join firm_today
    where interest_charges.interest_charge_date <= firm_today.today
),

bill_allocations as (
    select
        issued_bills.currency,
        issued_bills.issued_month,
        issued_bills.over_90_month,
        valid_allocations.payment_amount,
        valid_allocations.credit_note_amount,
        valid_allocations.amount,
        cast(date_trunc('month', valid_allocations.allocation_date) as date) as allocation_month,
    from valid_allocations
    inner join issued_bills
        on issued_bills.bill_id = valid_allocations.bill_id
    cross join firm_today
    where valid_allocations.allocation_date <= firm_today.today
),

months as (
    select
        issued_bills.currency,
        cast(unnest(generate_series(
            min(issued_bills.issued_month),
            cast(date_trunc('month', firm_today.today) as date),
            interval 1 month
        )) as date) as month,
        firm_today.today,
    from issued_bills
    cross join firm_today
    group by issued_bills.currency, firm_today.today
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
        count(*) as count_bills_issued,
    from issued_bills
    group by all
),

allocated_by_month as (
    select
        currency,
        allocation_month as month,
        sum(payment_amount) as collected,
        sum(credit_note_amount) as written_off,
    from bill_allocations
    group by all
),

-- A bill's charges add to AR in their months (`bill_charges`); an allocation takes its
-- amount off in its own month (or the bill's issue month, if dated before it); a paid
-- bill's unallocated rest (an overpayment's credit, or all of it when its allocations
-- are voided or missing) goes when it is settled.
ar_movements as (
    select currency, charge_month as month, amount,
    from bill_charges
    union all
    select currency, greatest(allocation_month, issued_month) as month, -amount as amount,
    from bill_allocations
    union all
    select currency, settled_month as month, -unallocated as amount,
    from issued_bills
    where settled_month is not null and unallocated <> 0
),

ar_over_90_movements as (
    select currency, greatest(charge_month, over_90_month) as month, amount,
    from bill_charges
    where over_90_month is not null
    union all
    select currency, greatest(allocation_month, over_90_month) as month, -amount as amount,
    from bill_allocations
    where over_90_month is not null
    union all
    select currency, greatest(settled_month, over_90_month) as month, -unallocated as amount,
    from issued_bills
    where over_90_month is not null and settled_month is not null and unallocated <> 0
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
    from issued_bills
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

-- reports.paid_bills' paid date and days to pay, from the bills already read above
paid_bills as (
    select
        currency,
        amount_due,
        coalesce(paid_on, last_allocation_date) as paid_at,
        coalesce(paid_on, last_allocation_date) - issued_at as days_to_pay,
    from approved_revenue_bills
    where state = 'paid'
),

days_to_pay_by_month as (
    select
        paid_bills.currency,
        cast(date_trunc('month', paid_bills.paid_at) as date) as month,
        count(*) as count_bills_paid,
        avg(paid_bills.days_to_pay) as avg_days_to_pay,
        sum(paid_bills.days_to_pay * paid_bills.amount_due)
            / nullif(sum(paid_bills.amount_due), 0) as weighted_days_to_pay,
    from paid_bills
    cross join firm_today
    where paid_bills.paid_at <= firm_today.today
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
        coalesce(days_to_pay_by_month.count_bills_paid, 0) as count_bills_paid,
        sum(coalesce(ar_change_by_month.ar_change, 0)) over (
            partition by month_ends.currency order by month_ends.month
        ) as ar_at_month_end,
        sum(coalesce(ar_over_90_change_by_month.ar_over_90_change, 0)) over (
            partition by month_ends.currency order by month_ends.month
        ) as ar_over_90_at_month_end,
        coalesce(billed_trailing_90_days.billed_trailing_90_days, 0) as billed_trailing_90_days,
        days_to_pay_by_month.avg_days_to_pay,
        days_to_pay_by_month.weighted_days_to_pay,
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
    left join days_to_pay_by_month
        on days_to_pay_by_month.currency is not distinct from month_ends.currency
        and days_to_pay_by_month.month = month_ends.month
),

final as (
    select
        currency,
        month,
        month_end_at,
        billed,
        collected,
        written_off,
        -- ratios are rounded as decimals, never as DOUBLEs, so every engine rounds alike
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
