-- Work not billed yet, per matter, timekeeper and currency: billable activities (not
-- non-billable, a non-zero price) on no bill, not even a draft (`billed` and `on_bill`
-- false), as Clio's `billable_matters.unbilled_amount` counts them. Aged by activity date
-- against the firm's today (work dated after today counts as 0-30 days old).
with

classified_activities as (
    select * from intermediate.classified_activities
    where is_billable and is_unbilled
),

matters as (
    select * from staging.matters
),

users as (
    select * from staging.users
),

firm_today as (
    select * from intermediate.firm_today
),

aged as (
    select
        classified_activities.*,
        firm_today.today - classified_activities.activity_date as age_days,
    from classified_activities
    cross join firm_today
),

per_matter_and_user as (
    select
        matter_id,
        user_id,
        currency,
        min(user_name) as activity_user_name,
        count(*) as count_activities,
        sum(seconds) as seconds,
        sum(amount) as amount,
        sum(case when age_days <= 30 then amount else 0 end) as amount_0_30,
        sum(case when age_days between 31 and 60 then amount else 0 end) as amount_31_60,
        sum(case when age_days between 61 and 90 then amount else 0 end) as amount_61_90,
        sum(case when age_days > 90 then amount else 0 end) as amount_91_plus,
        min(activity_date) as oldest_activity_date,
    from aged
    group by matter_id, user_id, currency
),

final as (
    select
        per_matter_and_user.matter_id,
        matters.matter_display_number,
        matters.client_id,
        matters.client_name,
        matters.responsible_attorney_id,
        matters.responsible_attorney_name,
        per_matter_and_user.user_id,
        coalesce(users.user_name, per_matter_and_user.activity_user_name) as user_name,
        per_matter_and_user.currency,
        per_matter_and_user.count_activities,
        cast(per_matter_and_user.seconds / 3600 as decimal(18, 4)) as hours,
        per_matter_and_user.amount,
        per_matter_and_user.amount_0_30,
        per_matter_and_user.amount_31_60,
        per_matter_and_user.amount_61_90,
        per_matter_and_user.amount_91_plus,
        per_matter_and_user.oldest_activity_date,
    from per_matter_and_user
    left join matters
        on matters.matter_id = per_matter_and_user.matter_id
    left join users
        on users.user_id = per_matter_and_user.user_id
)

select * from final
