with

source as (
    select * from clio.bank_transactions
),

renamed as (
    select
        ---------- ids
        id as bank_transaction_id,
        bank_account_id,
        client__id as client_id,
        matter__id as matter_id,
        bill__id as bill_id,
        allocation__id as allocation_id,
        currency_id,

        ---------- text
        type as bank_transaction_type,
        transaction_type,
        source,
        confirmation,
        currency,
        description,
        etag,

        ---------- numerics
        amount,
        funds_in,
        funds_out,
        current_account_balance,
        exchange_rate,

        ---------- booleans
        clio_payments_transaction as is_clio_payments_transaction,
        read_only_confirmation as is_confirmation_read_only,

        ---------- dates
        date as transaction_date,

        ---------- timestamps
        created_at,
        updated_at,
    from source
)

select * from renamed
