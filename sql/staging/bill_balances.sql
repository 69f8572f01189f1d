with

source as (
    select * from clio.bills__balances
),

renamed as (
    select
        ---------- ids
        bill_id,
        id as balance_owner_id,

        ---------- text
        type as balance_owner_type,

        ---------- numerics
        amount as balance,
        interest_amount,
        due as amount_due,
    from source
)

select * from renamed
