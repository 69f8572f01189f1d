-- Currency codes by Clio's currency id, from every table that names both (account
-- balances carry only the id).
with

bills as (
    select * from staging.bills
),

bank_accounts as (
    select * from staging.bank_accounts
),

billable_matters as (
    select * from staging.billable_matters
),

outstanding_client_balances as (
    select * from staging.outstanding_client_balances
),

named as (
    select currency_id, currency from bills
    union all
    select currency_id, currency from bank_accounts
    union all
    select currency_id, currency from billable_matters
    union all
    select currency_id, currency from outstanding_client_balances
),

final as (
    select
        currency_id,
        min(currency) as currency,
    from named
    where currency_id is not null and currency is not null
    group by currency_id
)

select * from final
