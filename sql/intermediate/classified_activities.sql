-- Every activity with what the time and unbilled-work reports ask of it:
-- `seconds`: a time entry's rounded quantity (what a bill charges; 0 for expenses);
-- `is_billable`: not non-billable, not no-charge, and a non-zero price;
-- `is_unbilled`: not billed yet (`billed` is false: on no bill, or on a draft);
-- `currency`: its bill's, else its matter's.
with

activities as (
    select * from staging.activities
),

bills as (
    select * from staging.bills
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
            and not coalesce(activities.is_no_charge, false)
            and coalesce(activities.price, 0) <> 0 as is_billable,
        not coalesce(activities.is_billed, false) as is_unbilled,
        coalesce(activities.is_on_bill, false)
            and not coalesce(activities.is_billed, false) as is_on_draft_bill,
        coalesce(bills.currency, matter_currencies.currency) as currency,
    from activities
    left join bills
        on bills.bill_id = activities.bill_id
    left join matter_currencies
        on matter_currencies.matter_id = activities.matter_id
)

select * from final
