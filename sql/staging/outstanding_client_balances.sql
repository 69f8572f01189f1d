with

source as (
    select * from clio.outstanding_client_balances
),

renamed as (
    select
        ---------- ids
        id as outstanding_client_balance_id,
        contact__id as client_id,
        currency__id as currency_id,

        ---------- text
        contact__name as client_name,
        currency__code as currency,
        etag,

        ---------- numerics
        total_outstanding_balance,
        pending_payments_total,

        ---------- booleans
        reminders_enabled as is_reminders_enabled,

        ---------- dates
        last_payment_date,
        last_shared_date,
        newest_issued_bill_due_date,

        ---------- timestamps
        created_at,
        updated_at,
    from source
)

select * from renamed
