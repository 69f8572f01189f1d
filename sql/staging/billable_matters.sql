with

source as (
    select * from clio.billable_matters
),

renamed as (
    select
        ---------- ids
        id as matter_id,
        client__id as client_id,
        currency_id,

        ---------- text
        display_number as matter_display_number,
        client__name as client_name,
        currency_code as currency,

        ---------- numerics
        unbilled_hours,
        unbilled_amount,
        amount_in_trust,
    from source
)

select * from renamed
