-- Each matter's currency: its own (`matters.currency`), else Clio's billable matters'
-- (for matters with unbilled work), else the currency of its bills, else that of its
-- trust accounts. The fallbacks cover rows synced before matters carried their currency.
with

matters as (
    select * from staging.matters
),

billable_matters as (
    select * from staging.billable_matters
),

bills as (
    select * from staging.bills
),

bill_matters as (
    select * from staging.bill_matters
),

matter_account_balances as (
    select * from staging.matter_account_balances
),

currencies as (
    select * from intermediate.currencies
),

-- the matters whose currency neither they nor Clio's billable matters give: only
-- their bills are read (a firm's bills outnumber its matters by far)
unknown as (
    select matters.matter_id,
    from matters
    left join billable_matters
        on billable_matters.matter_id = matters.matter_id
    where matters.currency is null
        and billable_matters.currency is null
),

billed as (
    select
        bill_matters.matter_id,
        max(bills.currency) as currency,
    from bill_matters
    inner join bills
        on bills.bill_id = bill_matters.bill_id
    where bill_matters.matter_id in (select matter_id from unknown)
    group by bill_matters.matter_id
),

held as (
    select
        matter_account_balances.matter_id,
        max(currencies.currency) as currency,
    from matter_account_balances
    inner join currencies
        on currencies.currency_id = matter_account_balances.currency_id
    group by matter_account_balances.matter_id
),

final as (
    select
        matters.matter_id,
        coalesce(
            matters.currency, billable_matters.currency, billed.currency, held.currency
        ) as currency,
    from matters
    left join billable_matters
        on billable_matters.matter_id = matters.matter_id
    left join billed
        on billed.matter_id = matters.matter_id
    left join held
        on held.matter_id = matters.matter_id
)

select * from final
