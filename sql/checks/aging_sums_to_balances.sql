-- A receivable bill's aging rows sum to its balance, and each row's buckets to the row.
with

receivables as (
    select * from intermediate.approved_revenue_bills
    where is_receivable
),

ar_aging_detail as (
    select * from reports.ar_aging_detail
),

bill_sums as (
    select
        bill_id,
        sum(balance) as aged_balance,
        sum(
            current_amount + days_1_30_amount + days_31_60_amount
            + days_61_90_amount + days_91_plus_amount
        ) as bucket_total,
        count(*) filter (
            where current_amount + days_1_30_amount + days_31_60_amount
                + days_61_90_amount + days_91_plus_amount <> balance
        ) as count_rows_off,
    from ar_aging_detail
    group by bill_id
),

compared as (
    select
        receivables.bill_id,
        receivables.bill_number,
        receivables.balance,
        coalesce(bill_sums.aged_balance, 0) as aged_balance,
        coalesce(bill_sums.bucket_total, 0) as bucket_total,
        coalesce(bill_sums.count_rows_off, 0) as count_rows_off,
    from receivables
    left join bill_sums
        on bill_sums.bill_id = receivables.bill_id
),

final as (
    select * from compared
    where abs(balance - aged_balance) > 0.01
        or abs(balance - bucket_total) > 0.01
        or count_rows_off > 0
)

select * from final
