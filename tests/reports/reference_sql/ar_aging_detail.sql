-- The model as main had it at 05c8c41, before its rewrite for speed (#12.4): the plain
-- statement that tests/reports/test_rewrites_match_reference.py holds the shipped model to.
-- One row per receivable bill x matter, aged on the firm's today. The rows of a bill
-- sum to its balance, and each row's bucket columns sum to the row's balance.
with

-- the bills alone: settled dates and allocation totals are a paid bill's
receivables as (
    select * from intermediate.approved_bills
    where state = 'awaiting_payment'
),

bill_matter_balances as (
    select * from intermediate.bill_matter_balances
),

matters as (
    select * from staging.matters
),

-- a bill's own copy of a matter's display number stands in only where the matter has
-- none (not synced, or blank); only those links are joined, not every bill's
named_matters as (
    select matter_id from matters
    where matter_display_number is not null
),

bill_matters as (
    select * from staging.bill_matters
    anti join named_matters
        on named_matters.matter_id = bill_matters.matter_id
),

firm_today as (
    select * from intermediate.firm_today
),

aged as (
    select
        receivables.*,
        firm_today.aging_basis,
        firm_today.today - receivables.due_at as days_past_due,
        firm_today.today - case firm_today.aging_basis
            when 'issue_date' then receivables.issued_at
            else receivables.due_at
        end as aging_days,
    from receivables
    cross join firm_today
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
    from aged
),

joined as (
    select
        bucketed.bill_id,
        bucketed.bill_number,
        bucketed.client_id,
        bucketed.client_name,
        bill_matter_balances.matter_id,
        coalesce(
            matters.matter_display_number, bill_matters.matter_display_number
        ) as matter_display_number,
        matters.responsible_attorney_id,
        matters.responsible_attorney_name,
        bucketed.currency,
        bucketed.issued_at,
        bucketed.due_at,
        bucketed.days_past_due,
        bucketed.aging_basis,
        bucketed.aging_days,
        bucketed.aging_bucket,
        bill_matter_balances.balance,
    from bucketed
    inner join bill_matter_balances
        on bill_matter_balances.bill_id = bucketed.bill_id
    left join matters
        on matters.matter_id = bill_matter_balances.matter_id
    left join bill_matters
        on bill_matters.bill_id = bill_matter_balances.bill_id
        and bill_matters.matter_id = bill_matter_balances.matter_id
),

final as (
    select
        *,
        case when aging_bucket = 'current' then balance else 0 end as current_amount,
        case when aging_bucket = '1-30' then balance else 0 end as days_1_30_amount,
        case when aging_bucket = '31-60' then balance else 0 end as days_31_60_amount,
        case when aging_bucket = '61-90' then balance else 0 end as days_61_90_amount,
        case when aging_bucket = '91+' then balance else 0 end as days_91_plus_amount,
    from joined
)

select * from final
