with

source as (
    select * from clio.expense_categories
),

renamed as (
    select
        ---------- ids
        id as expense_category_id,
        currency__id as currency_id,

        ---------- text
        name as expense_category_name,
        entry_type,
        tax_setting,
        xero_expense_code,
        currency__code as currency,
        etag,

        ---------- numerics
        rate,

        ---------- booleans
        accessible_to_user as is_accessible_to_user,

        ---------- timestamps
        created_at,
        updated_at,
    from source
)

select * from renamed
