-- Every activity with what the time and unbilled-work reports ask of it:
-- `seconds`: a time entry's rounded quantity (what a bill charges; 0 for expenses);
-- `is_billable`: not non-billable and a non-zero price (a no-charge entry is billable
-- work billed at nothing);
-- `is_unbilled`: on no bill yet, not even a draft (`billed` and `on_bill` false);
-- `currency`: its matter's (`matter_currencies`).
with

activities as (
    select * from staging.activities
),

matter_currencies as (
    select * from intermediate.matter_currencies
),

final as (
    select
        activities.activity_id,
        activities.activity_type,
        activities.matter_id,
        activities.user_id,
        activities.user_name,
        activities.bill_id,
        activities.activity_date,
        activities.price,
        activities.total as amount,
        activities.activity_type = 'TimeEntry' as is_time_entry,
        case when activities.activity_type = 'TimeEntry'
            then coalesce(activities.rounded_quantity_in_seconds, activities.quantity_in_seconds, 0)
            else 0
        end as seconds,
        not coalesce(activities.is_non_billable, false)
            and coalesce(activities.price, 0) <> 0 as is_billable,
        not coalesce(activities.is_billed, false)
            and not coalesce(activities.is_on_bill, false) as is_unbilled,
        matter_currencies.currency,
    from activities
    left join matter_currencies
        on matter_currencies.matter_id = activities.matter_id
)

select * from final
