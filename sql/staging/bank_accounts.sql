with

source as (
    select * from clio.bank_accounts
),

renamed as (
    select
        ---------- ids
        id as bank_account_id,
        user__id as user_id,
        currency_id,

        ---------- text
        name as bank_account_name,
        type as bank_account_type,
        account_number,
        currency,
        currency_symbol,
        holder,
        institution,
        domicile_branch,
        general_ledger_number,
        swift,
        transit_number,
        clio_payment_page_link,
        clio_payment_page_qr_code,
        etag,

        ---------- numerics
        balance,
        bank_transactions_count as count_bank_transactions,

        ---------- booleans
        default_account as is_default_account,
        controlled_account as is_controlled_account,
        clio_payments_enabled as is_clio_payments_enabled,

        ---------- timestamps
        created_at,
        updated_at,
    from source
)

select * from renamed
