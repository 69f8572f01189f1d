-- One row per receivable bill x matter, aged on the firm's today. The rows of a bill
-- sum to its balance, and each row's bucket columns sum to the row's balance.
with

-- the bills alone: settled dates and allocation totals are a paid bill's
receivables as (
    select * from intermediate.approved_bills
    where state = 'awaiting_payment'
),

bill_balances as (
    select * from staging.bill_balances
),

bill_links as (
    select * from staging.bill_matters
),

matters as (
    select * from staging.matters
),

-- a bill's own copy of a matter's display number stands in only where the matter has
-- none (not synced, or blank); only those links are joined, not every bill's (`not in`
-- rather than an anti join: DuckDB then sees how few they are and hashes them, not the
-- receivables)
named_matters as (
    select matter_id from matters
    where matter_display_number is not null
        and matter_id is not null
),

bill_matters as (
    select * from staging.bill_matters
    where matter_id not in (select matter_id from named_matters)
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

-- intermediate.bill_matter_balances for the receivable bills alone (the same rule, which
-- tests/reports/test_bill_matter_split.py pins): their split rows, and each bill without
-- a split on its only matter; joining the model itself would split every bill first
paired as (
    select
        bucketed.*,
        bill_balances.bill_id is null as is_unsplit,
        case when bill_balances.balance_owner_type = 'Matter'
            then bill_balances.balance_owner_id
        end as split_matter_id,
        case when bill_balances.bill_id is null
            then bucketed.balance else bill_balances.balance
        end as split_balance,
    from bucketed
    left join bill_balances
        on bill_balances.bill_id = bucketed.bill_id
),

only_matter as (
    select
        bill_links.bill_id,
        min(bill_links.matter_id) as matter_id,
    from bill_links
    semi join paired
        on paired.bill_id = bill_links.bill_id
        and paired.is_unsplit
    group by bill_links.bill_id
    having count(*) = 1
),

bill_matter_balances as (
    select
        paired.*,
        case when paired.is_unsplit
            then only_matter.matter_id else paired.split_matter_id
        end as matter_id,
    from paired
    left join only_matter
        on only_matter.bill_id = paired.bill_id
        and paired.is_unsplit
),

joined as (
    select
        bill_matter_balances.bill_id,
        bill_matter_balances.bill_number,
        bill_matter_balances.client_id,
        bill_matter_balances.client_name,
        bill_matter_balances.matter_id,
        coalesce(
            matters.matter_display_number, bill_matters.matter_display_number
        ) as matter_display_number,
        matters.responsible_attorney_id,
        matters.responsible_attorney_name,
        bill_matter_balances.currency,
        bill_matter_balances.issued_at,
        bill_matter_balances.due_at,
        bill_matter_balances.days_past_due,
        bill_matter_balances.aging_basis,
        bill_matter_balances.aging_days,
        bill_matter_balances.aging_bucket,
        bill_matter_balances.split_balance as balance,
    from bill_matter_balances
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
