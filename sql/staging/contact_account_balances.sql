with

source as (
    select * from clio.contacts__account_balances
),

renamed as (
    select
        ---------- ids
        contact_id,
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
