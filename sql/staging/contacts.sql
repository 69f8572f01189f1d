with

source as (
    select * from clio.contacts
),

renamed as (
    select
        ---------- ids
        id as contact_id,
        company__id as company_id,
        client_connect_user_id,

        ---------- text
        name as contact_name,
        first_name,
        middle_name,
        last_name,
        type as contact_type,
        prefix,
        title,
        initials,
        company__name as company_name,
        primary_email_address,
        secondary_email_address,
        primary_phone_number,
        secondary_phone_number,
        clio_connect_email,
        ledes_client_id,
        sales_tax_number,
        etag,

        ---------- booleans
        is_client,
        is_co_counsel,
        is_bill_recipient,
        is_clio_for_client_user,
        has_clio_for_clients_permission as is_clio_for_clients_permitted,
        locked_clio_connect_email as is_clio_connect_email_locked,

        ---------- dates
        date_of_birth as born_at,

        ---------- timestamps
        created_at,
        updated_at,
    from source
)

select * from renamed
