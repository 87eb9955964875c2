# The digit-scene targets of the experiment scripts (sourced): `target_args T` prints the `data digits` flags of
# target T (the same sets as the demo's digit domain and the README's tables).
target_args() {
  case $1 in
    speckle) echo "--digits 0-4 --shift speckle:0.5,blur:1 --seed 1" ;;
    newdigits) echo "--digits 5-9 --seed 2" ;;
    texture) echo "--digits 0-4 --shift texture --seed 3" ;;
    invert+newdigits) echo "--digits 5-9 --shift invert --seed 4" ;;
    *) echo "unknown target $1 (speckle, newdigits, texture, invert+newdigits)" >&2; return 2 ;;
  esac
}
