with

source as (
    select * from clio.users
),

renamed as (
    select
        ---------- ids
        id as user_id,
        default_calendar_id,

        ---------- text
        name as user_name,
        first_name,
        last_name,
        initials,
        email,
        phone_number,
        subscription_type,
        time_zone,
        etag,

        ---------- numerics
        rate,

        ---------- booleans
        enabled as is_enabled,
        account_owner as is_account_owner,
        clio_connect as is_clio_connect,
        court_rules_default_attendee as is_court_rules_default_attendee,

        ---------- timestamps
        created_at,
        updated_at,
    from source
)

select * from renamed
