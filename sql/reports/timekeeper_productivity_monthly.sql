-- Per timekeeper, month of work and currency: the time recorded that month and what has
-- become of it so far. Hours are time entries' rounded quantities (what a bill charges).
--   hours_worked      every time entry;
--   billable_hours    billable ones (not non-billable, a non-zero price: no-charge time
--                     is billable work billed at nothing, which realization shows);
--   billable_value    billable hours at the timekeeper's standard rate (users.rate; the
--                     entry's own rate when the user has none);
--   billed_hours/_amount  service lines dated that month on approved revenue bills
--                     (quantity, sub-total before tax);
--   collected_amount  those lines' share of their bills' payments (billed_time_lines);
--   capacity_hours    the firm's workday hours x weekdays of the month (up to today in
--                     the current month).
-- utilization = billable_hours / capacity_hours; realization = billed_amount /
-- billable_value; collection_rate = collected_amount / billed_amount. A timekeeper
-- working on matters in two currencies has a row for each; utilization adds up across them.
with

classified_activities as (
    select * from intermediate.classified_activities
    where is_time_entry
),

billed_time_lines as (
    select * from intermediate.billed_time_lines
),

users as (
    select * from staging.users
),

firm_today as (
    select * from intermediate.firm_today
),

worked as (
    select
        classified_activities.user_id,
        cast(date_trunc('month', classified_activities.activity_date) as date) as month,
        classified_activities.currency,
        min(classified_activities.user_name) as activity_user_name,
        sum(classified_activities.seconds) as seconds_worked,
        sum(case when classified_activities.is_billable
            then classified_activities.seconds else 0 end) as seconds_billable,
        sum(case when classified_activities.is_billable
            then classified_activities.seconds
                * coalesce(users.rate, classified_activities.price)
            else 0 end) as billable_value_seconds,
    from classified_activities
    left join users
        on users.user_id = classified_activities.user_id
    where classified_activities.activity_date is not null
    group by all
),

billed as (
    select
        user_id,
        cast(date_trunc('month', line_item_date) as date) as month,
        currency,
        sum(hours) as billed_hours,
        sum(sub_total) as billed_amount,
        sum(collected_share) as collected_share,
    from billed_time_lines
    where line_item_date is not null
    group by all
),

user_months as (
    select user_id, month, currency from worked
    union
    select user_id, month, currency from billed
),

-- Weekdays of each month (through today in the current month), by counting days.
month_days as (
    select
        user_months.month,
        cast(unnest(generate_series(
            user_months.month,
            least(
                cast(user_months.month + interval 1 month - interval 1 day as date),
                greatest(firm_today.today, user_months.month)
            ),
            interval 1 day
        )) as date) as day,
    from (select distinct month from user_months) as user_months
    cross join firm_today
),

capacity as (
    select
        month_days.month,
        count(*) filter (where extract(isodow from month_days.day) <= 5)
            * min(firm_today.workday_hours) as capacity_hours,
    from month_days
    cross join firm_today
    group by month_days.month
),

joined as (
    select
        user_months.user_id,
        coalesce(users.user_name, worked.activity_user_name) as user_name,
        user_months.month,
        user_months.currency,
        coalesce(worked.seconds_worked, 0) as seconds_worked,
        coalesce(worked.seconds_billable, 0) as seconds_billable,
        coalesce(worked.billable_value_seconds, 0) / 3600 as billable_value,
        coalesce(billed.billed_hours, 0) as billed_hours,
        coalesce(billed.billed_amount, 0) as billed_amount,
        coalesce(billed.collected_share, 0) as collected_share,
        capacity.capacity_hours,
    from user_months
    left join worked
        on worked.user_id is not distinct from user_months.user_id
        and worked.month = user_months.month
        and worked.currency is not distinct from user_months.currency
    left join billed
        on billed.user_id is not distinct from user_months.user_id
        and billed.month = user_months.month
        and billed.currency is not distinct from user_months.currency
    left join users
        on users.user_id = user_months.user_id
    left join capacity
        on capacity.month = user_months.month
),

final as (
    select
        user_id,
        user_name,
        month,
        currency,
        cast(seconds_worked / 3600 as decimal(18, 4)) as hours_worked,
        cast(seconds_billable / 3600 as decimal(18, 4)) as billable_hours,
        cast(billed_hours as decimal(18, 4)) as billed_hours,
        -- ratios are rounded as decimals, never as DOUBLEs, so every engine rounds alike
        cast(round(cast(billable_value as decimal(38, 10)), 2) as decimal(18, 2)) as billable_value,
        cast(billed_amount as decimal(18, 2)) as billed_amount,
        cast(round(cast(collected_share as decimal(38, 10)), 2) as decimal(18, 2))
            as collected_amount,
        cast(capacity_hours as decimal(18, 2)) as capacity_hours,
        cast(round(cast(seconds_billable / 3600 / nullif(capacity_hours, 0) as decimal(38, 10)), 4) as double)
            as utilization,
        cast(round(cast(billed_amount / nullif(billable_value, 0) as decimal(38, 10)), 4) as double) as realization,
        cast(round(cast(collected_share / nullif(billed_amount, 0) as decimal(38, 10)), 4) as double)
            as collection_rate,
    from joined
)

select * from final
