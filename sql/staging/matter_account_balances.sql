with

source as (
    select * from clio.matters__account_balances
),

renamed as (
    select
        ---------- ids
        matter_id,
        id as bank_account_id,
        currency_id,

        ---------- text
        type as bank_account_type,
        name as bank_account_name,

        ---------- numerics
        balance,
    from source
)

select * from renamed
