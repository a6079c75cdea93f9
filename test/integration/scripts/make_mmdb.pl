#!/usr/bin/perl
# make_mmdb.pl OUT.mmdb LAYOUT [renumbered]: writes a small MaxMind-format database over
# documentation ranges (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/25,
# 2001:db8::/32 parts) for the enrichment tests.
# LAYOUT: maxmind-country (country.iso_code), maxmind-asn
# (autonomous_system_number/organization), flat-country (country_code, as
# the free ip-location-db files have it). `renumbered` gives every network
# another country (DE->NL, US->CA, JP->KR, FR->BE, BR->AR) so that tests can
# tell which version of a database tagged a record.
use strict;
use warnings;
use MaxMind::DB::Writer::Tree;

my ($out, $layout, $variant) = @ARGV;
die "usage: make_mmdb.pl OUT.mmdb maxmind-country|maxmind-asn|flat-country\n" unless $layout;

# network => [country, asn, organisation]
my %networks = (
    '192.0.2.0/24'    => ['DE', 64496,      'Example "Quoted" Org'],
    '198.51.100.0/24' => ['US', 64497,      'TEST-NET-2 Networks'],
    '203.0.113.0/25'  => ['JP', 64498,      "Nihon \x{65e5}\x{672c} Net"],
    '2001:db8::/48'   => ['FR', 4200000001, 'IPv6 Docs Ltd'],
    '2001:db8:1::/48' => ['BR', 4200000002, 'Rede Exemplo'],
);

my %types = (
    country                        => 'map',
    iso_code                       => 'utf8_string',
    names                          => 'map',
    en                             => 'utf8_string',
    country_code                   => 'utf8_string',
    autonomous_system_number       => 'uint32',
    autonomous_system_organization => 'utf8_string',
);
my %database_type = (
    'maxmind-country' => 'GeoLite2-Country',
    'maxmind-asn'     => 'GeoLite2-ASN',
    'flat-country'    => 'geo-whois-asn-country',
);
die "unknown layout $layout\n" unless $database_type{$layout};
my %renumbered = (DE => 'NL', US => 'CA', JP => 'KR', FR => 'BE', BR => 'AR');

my $tree = MaxMind::DB::Writer::Tree->new(
    ip_version               => 6,
    record_size              => 24,
    database_type            => $database_type{$layout},
    languages                => ['en'],
    description              => { en => 'tidewatch test database' },
    remove_reserved_networks => 0,
    alias_ipv6_to_ipv4       => 1,
    map_key_type_callback    => sub { $types{ $_[0] } },
);
for my $network (sort keys %networks) {
    my ($country, $asn, $org) = @{ $networks{$network} };
    $country = $renumbered{$country} if ($variant // '') eq 'renumbered';
    my $data =
        $layout eq 'maxmind-country' ? { country => { iso_code => $country, names => { en => "Country $country" } } }
      : $layout eq 'maxmind-asn'     ? { autonomous_system_number => $asn, autonomous_system_organization => $org }
      :                                { country_code => $country };
    $tree->insert_network($network, $data);
}
open my $fh, '>:raw', $out or die "cannot write $out: $!\n";
$tree->write_tree($fh);
close $fh or die "cannot write $out: $!\n";
