/* test-value-ring.c: the in-place queue of items inside a channel
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <glib-object.h>
#include <gio/gio.h>

#include "ag-value-ring-private.h"
#include "ag-values-private.h"

static void
push_int (AgValueRing *ring,
          int          n,
          gboolean     at_head)
{
  GValue value = G_VALUE_INIT;

  g_value_init (&value, G_TYPE_INT);
  g_value_set_int (&value, n);
  if (at_head)
    _ag_value_ring_push_head (ring, &value);
  else
    _ag_value_ring_push_tail (ring, &value);

  /* Moved out: nothing left to unset. */
  g_assert_true (G_VALUE_TYPE (&value) == G_TYPE_INVALID);
}

static void
push_string (AgValueRing *ring,
             const char  *text)
{
  GValue value = G_VALUE_INIT;

  g_value_init (&value, G_TYPE_STRING);
  g_value_set_string (&value, text);
  _ag_value_ring_push_tail (ring, &value);
}

/* Takes @count values and checks they are first, first + 1, … */
static void
assert_take_ints (AgValueRing *ring,
                  guint        count,
                  int          first)
{
  g_autoptr(GArray) items = _ag_value_array_new (0);

  g_assert_cmpuint (_ag_value_ring_take (ring, items, count), ==, count);
  g_assert_cmpuint (items->len, ==, count);
  for (guint i = 0; i < count; i++)
    g_assert_cmpint (g_value_get_int (&g_array_index (items, GValue, i)), ==, first + (int) i);
}

static void
test_value_ring_keeps_order_across_the_wrap (void)
{
  AgValueRing ring;
  int next_in = 0, next_out = 0;

  _ag_value_ring_init (&ring);
  g_assert_true (_ag_value_ring_is_empty (&ring));

  /* Rounds of 7 in, 5 out: the front walks around the slots many times
   * while the ring grows, and takes come in two pieces at the wrap. */
  for (int round = 0; round < 50; round++)
    {
      for (int i = 0; i < 7; i++)
        push_int (&ring, next_in++, FALSE);
      assert_take_ints (&ring, 5, next_out);
      next_out += 5;
    }

  g_assert_cmpuint (ring.length, ==, (gsize) (next_in - next_out));
  assert_take_ints (&ring, next_in - next_out, next_out);
  g_assert_true (_ag_value_ring_is_empty (&ring));

  _ag_value_ring_clear (&ring);
}

static void
test_value_ring_put_back_at_the_front_grows_a_wrapped_ring (void)
{
  AgValueRing ring;
  g_autoptr(GArray) none = _ag_value_array_new (0);

  _ag_value_ring_init (&ring);

  /* Fill 16 slots, then wrap: values 10..25 in slots 10..15, 0..9. */
  for (int i = 0; i < 16; i++)
    push_int (&ring, i, FALSE);
  assert_take_ints (&ring, 10, 0);
  for (int i = 16; i < 26; i++)
    push_int (&ring, i, FALSE);
  g_assert_cmpuint (ring.length, ==, ring.size);

  /* Full and wrapped: the next value at the front makes it grow. */
  for (int i = 9; i >= 0; i--)
    push_int (&ring, i, TRUE);
  g_assert_cmpuint (ring.length, ==, 26);
  assert_take_ints (&ring, 26, 0);

  /* Taking from an empty ring takes nothing. */
  g_assert_cmpuint (_ag_value_ring_take (&ring, none, 3), ==, 0);
  g_assert_cmpuint (none->len, ==, 0);

  _ag_value_ring_clear (&ring);
}

static void
test_value_ring_clear_frees_what_it_holds (void)
{
  AgValueRing ring;
  g_autoptr(GObject) object = g_object_new (G_TYPE_OBJECT, NULL);
  GValue value = G_VALUE_INIT;

  _ag_value_ring_init (&ring);
  push_string (&ring, "left behind");
  g_value_init (&value, G_TYPE_OBJECT);
  g_value_set_object (&value, object);
  _ag_value_ring_push_tail (&ring, &value);
  g_assert_cmpuint (object->ref_count, ==, 2);

  /* Run under LeakSanitizer, a string not freed here fails the suite. */
  _ag_value_ring_clear (&ring);
  g_assert_cmpuint (object->ref_count, ==, 1);
  g_assert_true (_ag_value_ring_is_empty (&ring));

  /* A cleared ring is ready for use again. */
  push_int (&ring, 7, FALSE);
  assert_take_ints (&ring, 1, 7);
  _ag_value_ring_clear (&ring);
}

static void
test_value_copy_of_numbers_and_enums_is_exact (void)
{
  GValue source = G_VALUE_INIT, copy = G_VALUE_INIT;

  g_value_init (&source, G_TYPE_DOUBLE);
  g_value_set_double (&source, -2.5);
  _ag_value_init_copy (&copy, &source);
  g_assert_true (G_VALUE_HOLDS_DOUBLE (&copy));
  g_assert_cmpfloat (g_value_get_double (&copy), ==, -2.5);
  _ag_value_clear (&copy);
  g_assert_true (G_VALUE_TYPE (&copy) == G_TYPE_INVALID);
  g_value_unset (&source);

  /* A derived type keeps its own type, not its fundamental one. */
  g_value_init (&source, G_TYPE_IO_ERROR_ENUM);
  g_value_set_enum (&source, G_IO_ERROR_CANCELLED);
  _ag_value_init_copy (&copy, &source);
  g_assert_true (G_VALUE_TYPE (&copy) == G_TYPE_IO_ERROR_ENUM);
  g_assert_cmpint (g_value_get_enum (&copy), ==, G_IO_ERROR_CANCELLED);
  _ag_value_clear (&copy);
  g_value_unset (&source);
}

static void
test_value_copy_of_strings_and_objects_owns_its_own (void)
{
  g_autoptr(GObject) object = g_object_new (G_TYPE_OBJECT, NULL);
  GValue source = G_VALUE_INIT, copy = G_VALUE_INIT;

  g_value_init (&source, G_TYPE_STRING);
  g_value_set_string (&source, "text");
  _ag_value_init_copy (&copy, &source);
  g_assert_cmpstr (g_value_get_string (&copy), ==, "text");
  g_assert_true (g_value_get_string (&copy) != g_value_get_string (&source));
  g_value_unset (&source);
  g_assert_cmpstr (g_value_get_string (&copy), ==, "text");
  _ag_value_clear (&copy);

  g_value_init (&source, G_TYPE_OBJECT);
  g_value_set_object (&source, object);
  _ag_value_init_copy (&copy, &source);
  g_assert_cmpuint (object->ref_count, ==, 3);
  _ag_value_clear (&copy);
  g_assert_cmpuint (object->ref_count, ==, 2);
  g_value_unset (&source);

  /* Clearing an empty slot is a no-op. */
  _ag_value_clear (&copy);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/value-ring/keeps-order-across-the-wrap",
                   test_value_ring_keeps_order_across_the_wrap);
  g_test_add_func ("/value-ring/put-back-at-the-front-grows-a-wrapped-ring",
                   test_value_ring_put_back_at_the_front_grows_a_wrapped_ring);
  g_test_add_func ("/value-ring/clear-frees-what-it-holds",
                   test_value_ring_clear_frees_what_it_holds);
  g_test_add_func ("/values/copy-of-numbers-and-enums-is-exact",
                   test_value_copy_of_numbers_and_enums_is_exact);
  g_test_add_func ("/values/copy-of-strings-and-objects-owns-its-own",
                   test_value_copy_of_strings_and_objects_owns_its_own);

  return g_test_run ();
}
