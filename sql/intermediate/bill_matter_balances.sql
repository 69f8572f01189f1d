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

-- one pass over bills and their splits: a split row where there is one (a split of a
-- bill missing from the warehouse too), else the bill alone; cheaper than an anti join
-- of the bills against the splits and a union
paired as (
    select
        coalesce(bill_balances.bill_id, bills.bill_id) as bill_id,
        bill_balances.bill_id is null as is_unsplit,
        case when bill_balances.balance_owner_type = 'Matter'
            then bill_balances.balance_owner_id
        end as split_matter_id,
        case when bill_balances.bill_id is null
            then bills.balance else bill_balances.balance
        end as balance,
        case when bill_balances.bill_id is null
            then cast(0 as decimal(18, 2)) else bill_balances.interest_amount
        end as interest_amount,
        case when bill_balances.bill_id is null
            then bills.amount_due else bill_balances.amount_due
        end as amount_due,
    from bills
    full outer join bill_balances
        on bill_balances.bill_id = bills.bill_id
),

-- only the unsplit bills' matters are grouped: most bills have a split
only_matter as (
    select
        bill_matters.bill_id,
        min(bill_matters.matter_id) as matter_id,
    from bill_matters
    semi join paired
        on paired.bill_id = bill_matters.bill_id
        and paired.is_unsplit
    group by bill_matters.bill_id
    having count(*) = 1
),

final as (
    select
        paired.bill_id,
        case when paired.is_unsplit
            then only_matter.matter_id else paired.split_matter_id
        end as matter_id,
        paired.balance,
        paired.interest_amount,
        paired.amount_due,
    from paired
    left join only_matter
        on only_matter.bill_id = paired.bill_id
        and paired.is_unsplit
)

select * from final
