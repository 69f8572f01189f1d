with

source as (
    select * from clio.bills
),

renamed as (
    select
        ---------- ids
        id as bill_id,
        client__id as client_id,
        user__id as user_id,
        currency__id as currency_id,

        ---------- text
        number as bill_number,
        client__name as client_name,
        user__name as user_name,
        currency__code as currency,
        state,
        kind,
        type as bill_type,
        subject,
        memo,
        purchase_order,
        etag,

        ---------- numerics
        total,
        due as amount_due,
        paid as amount_paid,
        credits_issued,
        balance,
        pending as amount_pending,
        sub_total,
        tax_sum,
        secondary_tax_sum,
        total_tax,
        tax_rate,
        secondary_tax_rate,

        ---------- booleans
        can_update as is_updatable,
        shared as is_shared,

        ---------- dates
        issued_at,
        due_at,
        start_at,
        end_at,

        ---------- timestamps
        paid_at,
        last_sent_at,
        created_at,
        updated_at,
    from source
)

select * from renamed
