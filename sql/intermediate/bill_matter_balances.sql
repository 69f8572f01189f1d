-- The bill-to-matter split of each bill's balance, from Clio's `balances[]` (one
-- entry per matter on the bill). A bill without a split keeps its whole balance on
-- its only matter (or on no matter when it lists none or several).
with

bills as (
    select * from staging.bills
),

bill_balances as (
    select * from staging.bill_balances
),

bill_matters as (
    select * from staging.bill_matters
),

split as (
    select
        bill_id,
        case when balance_owner_type = 'Matter' then balance_owner_id end as matter_id,
        balance,
        interest_amount,
        amount_due,
    from bill_balances
),

unsplit_bills as (
    select bills.bill_id, bills.balance, bills.amount_due,
    from bills
    anti join split on split.bill_id = bills.bill_id
),

-- only the unsplit bills' matters are grouped: most bills have a split
only_matter as (
    select
        bill_matters.bill_id,
        min(bill_matters.matter_id) as matter_id,
    from bill_matters
    semi join unsplit_bills on unsplit_bills.bill_id = bill_matters.bill_id
    group by bill_matters.bill_id
    having count(*) = 1
),

unsplit as (
    select
        unsplit_bills.bill_id,
        only_matter.matter_id,
        unsplit_bills.balance,
        cast(0 as decimal(18, 2)) as interest_amount,
        unsplit_bills.amount_due,
    from unsplit_bills
    left join only_matter on only_matter.bill_id = unsplit_bills.bill_id
),

-- named columns rather than DuckDB's `union all by name`, which PostgreSQL lacks
final as (
    select bill_id, matter_id, balance, interest_amount, amount_due,
    from split
    union all
    select bill_id, matter_id, balance, interest_amount, amount_due,
    from unsplit
)

select * from final
