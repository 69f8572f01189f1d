with

source as (
    select * from clio.bills__matters
),

renamed as (
    select
        ---------- ids
        bill_id,
        id as matter_id,

        ---------- text
        display_number as matter_display_number,
    from source
)

select * from renamed
