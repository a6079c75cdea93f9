#!/usr/bin/perl
# make_large_mmdb.pl OUT.mmdb NETWORKS SEED [dense]: a MaxMind-layout database
# with NETWORKS random networks (80% IPv4 /18../24, 20% IPv6 /24../48), each
# with a country, an AS number and an AS organisation, about the size of a
# real country + ASN database. For enricher_bench. With `dense`, also 400
# random /28s in 10.1.0.0/16 and the 64 /30s of 10.2.3.0/24, each with its
# own data: crowded address blocks for geoip_database_test.
use strict;
use warnings;
use MaxMind::DB::Writer::Tree;

my ($out, $count, $seed, $dense) = @ARGV;
die "usage: make_large_mmdb.pl OUT.mmdb NETWORKS SEED [dense]\n" unless $seed;
srand($seed);
my %types = (
    country                        => 'map',
    iso_code                       => 'utf8_string',
    autonomous_system_number       => 'uint32',
    autonomous_system_organization => 'utf8_string',
);
my $tree = MaxMind::DB::Writer::Tree->new(
    ip_version               => 6,
    record_size              => 28,
    database_type            => 'tidewatch-bench-Country-ASN',
    languages                => ['en'],
    description              => { en => 'enricher_bench database' },
    remove_reserved_networks => 0,
    alias_ipv6_to_ipv4       => 1,
    merge_strategy           => 'none',
    map_key_type_callback    => sub { $types{ $_[0] } },
);
my @countries = map { chr(65 + $_ % 26) . chr(65 + int($_ / 26) % 26) } 0 .. 249;
for my $i (1 .. $count) {
    my $network;
    if (rand() < 0.8) {
        my $len = 18 + int(rand(7));
        my $addr = int(rand(2**32)) & ~((2**(32 - $len)) - 1);
        $network = join('.', unpack('C4', pack('N', $addr))) . "/$len";
    } else {
        my $len = 24 + int(rand(25));
        # 2001:0::/32 (Teredo) is an alias of IPv4 space in the tree: stay above it.
        my @words = (0x2001, 0x1000 + int(rand(0xe000)), int(rand(65536)), 0, 0, 0, 0, 0);
        $words[2] &= 0xffff << (48 - $len) if $len < 48;
        $network = join(':', map { sprintf('%x', $_) } @words) . "/$len";
    }
    my $asn = 1000 + int(rand(400000));
    $tree->insert_network($network, {
        country => { iso_code => $countries[ int(rand(@countries)) ] },
        autonomous_system_number       => $asn,
        autonomous_system_organization => "AS$asn Example Networks Ltd",
    });
}
if (defined $dense && $dense eq 'dense') {
    my @networks = map { '10.2.3.' . ($_ * 4) . '/30' } 0 .. 63;
    my %taken;
    while (keys %taken < 400) {
        my $slot = int(rand(4096));
        next if $taken{$slot}++;
        push @networks, '10.1.' . ($slot >> 4) . '.' . (($slot & 15) * 16) . '/28';
    }
    for my $network (@networks) {
        my $asn = 1000 + int(rand(400000));
        $tree->insert_network($network, {
            country => { iso_code => $countries[ int(rand(@countries)) ] },
            autonomous_system_number       => $asn,
            autonomous_system_organization => "AS$asn Example Networks Ltd",
        });
    }
}
open my $fh, '>:raw', $out or die "cannot write $out: $!\n";
$tree->write_tree($fh);
close $fh or die "cannot write $out: $!\n";
